// The JavaScript side of the skill contract (wit/skill.wit). `skill build` bundles this module
// with the author's code; `guest` is what the component exports.
//
// This file is the source; index.js and index.d.ts beside package.json are what tsc makes of
// it (`npm run build`, checked by the tests), so the SDK needs no build step where it is used.
import * as host from 'skill-engine:skill/host@0.3.0';
const KINDS = ['string', 'integer', 'number', 'boolean', 'json', 'file'];
const ERROR_KINDS = ['invalid-args', 'not-configured', 'failed'];
/** A tool error the caller sees as such (not a crash). */
export class ToolError extends Error {
    kind;
    constructor(kind, message) {
        if (!ERROR_KINDS.includes(kind)) {
            throw new TypeError(`unknown ToolError kind '${kind}' (use one of ${ERROR_KINDS.join(', ')})`);
        }
        super(message);
        this.kind = kind;
    }
    static invalidArgs(message) {
        return new ToolError('invalid-args', message);
    }
    static notConfigured(message) {
        return new ToolError('not-configured', message);
    }
    static failed(message) {
        return new ToolError('failed', message);
    }
}
let registered = null;
/** Declares the skill's tools. Call it once, at the top level of the entry module. */
export function defineSkill(definition) {
    if (registered) {
        throw new Error('defineSkill() was called twice; declare every tool in one call');
    }
    const tools = [];
    for (const [name, def] of Object.entries(definition.tools ?? {})) {
        if (typeof def.handler !== 'function') {
            throw new Error(`tool '${name}' has no handler function`);
        }
        const params = Object.entries((def.params ?? {})).map(([pname, p]) => {
            const kind = p.type ?? 'string';
            if (!KINDS.includes(kind)) {
                throw new Error(`parameter '${pname}' of tool '${name}' has unknown type '${kind}'`);
            }
            return {
                name: pname,
                description: p.description ?? '',
                kind,
                required: p.default === undefined && p.required !== false,
                defaultValue: p.default === undefined ? undefined : JSON.stringify(p.default),
                choices: (p.choices ?? []).map(String),
            };
        });
        tools.push({
            name,
            description: def.description ?? '',
            params,
            handler: def.handler,
            details: toolDetails(name, def),
        });
    }
    registered = { tools, validateConfig: definition.validateConfig };
    return definition;
}
const ANNOTATIONS = ['readOnly', 'destructive', 'idempotent', 'openWorld'];
function toolDetails(name, def) {
    const given = (def.annotations ?? {});
    for (const key of Object.keys(given)) {
        if (!ANNOTATIONS.includes(key)) {
            throw new Error(`tool '${name}' has unknown annotation '${key}' (use ${ANNOTATIONS.join(', ')})`);
        }
    }
    const hint = (key) => {
        const value = given[key];
        if (value !== undefined && typeof value !== 'boolean') {
            throw new Error(`annotation '${key}' of tool '${name}' must be true or false`);
        }
        return value;
    };
    return {
        tool: name,
        title: def.title === undefined ? undefined : String(def.title),
        annotations: {
            readOnly: hint('readOnly'),
            destructive: hint('destructive'),
            idempotent: hint('idempotent'),
            openWorld: hint('openWorld'),
        },
        outputSchema: def.outputSchema === undefined ? undefined : JSON.stringify(def.outputSchema),
    };
}
/** Identity helper so TypeScript infers each tool's argument types from its params. */
export function tool(def) {
    return def;
}
/** Instance configuration (secrets included), read from the host for this call only. */
export const config = {
    get(key) {
        return host.configGet(key) ?? undefined;
    },
    /** Throws a `not-configured` ToolError when the key is missing. */
    require(key) {
        const value = host.configGet(key);
        if (value === undefined || value === null) {
            throw ToolError.notConfigured(`missing configuration '${key}'`);
        }
        return value;
    },
};
/** Structured logs (shown by `skill run -v`, sent to MCP clients as log messages). */
export const log = {
    trace(message) {
        host.log('trace', String(message));
    },
    debug(message) {
        host.log('debug', String(message));
    },
    info(message) {
        host.log('info', String(message));
    },
    warn(message) {
        host.log('warn', String(message));
    },
    error(message) {
        host.log('error', String(message));
    },
};
/** Reports progress: percent 0-100 (or undefined when unknown) and a message. */
export function progress(percent, message = '') {
    const p = percent === undefined || percent === null
        ? undefined
        : Math.max(0, Math.min(100, Math.round(percent)));
    host.progress(p, String(message));
}
/**
 * Calls `tool` of another skill, one this skill lists in `skill_dependencies` (skill.yaml);
 * calls to any other skill are refused. The host runs it in that skill's own instance (the one
 * with this instance's name, else `default`) with its own config, permissions and limits, and
 * within what is left of this call's time. Throws a `ToolError` when the call fails.
 */
export function callTool(skill, tool, args = {}) {
    const witArgs = Object.entries(args).map(([name, value]) => ({ name, value: toWit(value) }));
    let output;
    try {
        output = host.callTool(String(skill), String(tool), witArgs);
    }
    catch (e) {
        // componentize-js throws an Error carrying the `tool-error` as `payload`; QuickJS throws
        // the variant itself.
        const error = (e?.payload ?? e);
        const message = String(error?.val ?? e);
        switch (error?.tag) {
            case 'invalid-args':
            case 'not-configured':
            case 'failed':
                throw new ToolError(error.tag, message);
            case 'unknown-tool':
                throw new ToolError('failed', `unknown tool: ${message}`);
            default:
                throw e;
        }
    }
    return {
        text: output.text,
        data: output.data === undefined ? undefined : JSON.parse(output.data),
    };
}
/** An s64: a BigInt for componentize-js, a number for componentize-qjs (which traps on a
 *  BigInt there). */
function integer(value) {
    const quickjs = typeof __SKILL_JS_ENGINE__ !== 'undefined' && __SKILL_JS_ENGINE__ === 'quickjs';
    return { tag: 'integer', val: (quickjs ? Number(value) : value) };
}
/** A plain JS value as a contract `value`: the callee's host checks it against the tool. */
function toWit(value) {
    switch (typeof value) {
        case 'string':
            return { tag: 'text', val: value };
        case 'bigint':
            return integer(value);
        case 'boolean':
            return { tag: 'boolean', val: value };
        case 'number':
            return Number.isSafeInteger(value) ? integer(BigInt(value)) : { tag: 'number', val: value };
        default:
            return { tag: 'json', val: stringify(value ?? null) };
    }
}
const INFO = typeof __SKILL_INFO__ === 'undefined' || __SKILL_INFO__ === undefined
    ? { name: 'unnamed', version: '0.0.0', description: '' }
    : __SKILL_INFO__;
/** A contract `value` as a plain JS value. Integers (s64) arrive as BigInt: they become
 *  numbers when that loses nothing, so handlers can do arithmetic on them. */
function fromWit(value) {
    switch (value.tag) {
        case 'json':
            return JSON.parse(value.val);
        case 'integer': {
            const n = Number(value.val);
            return Number.isSafeInteger(n) ? n : value.val;
        }
        default:
            return value.val;
    }
}
/** JSON that also takes BigInts (written as decimal strings: JSON numbers would lose digits). */
function stringify(value) {
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}
function toOutput(result) {
    if (result === undefined || result === null)
        return { text: '', data: undefined };
    if (typeof result === 'string')
        return { text: result, data: undefined };
    if (typeof result === 'object' && typeof result.text === 'string') {
        const { text, data } = result;
        return { text, data: data === undefined ? undefined : stringify(data) };
    }
    const json = stringify(result);
    return { text: json, data: json };
}
function toToolError(e) {
    if (e instanceof ToolError)
        return { tag: e.kind, val: e.message };
    return { tag: 'failed', val: e instanceof Error ? e.message : String(e) };
}
function isPromise(value) {
    return typeof value?.then === 'function';
}
/** The component's `guest` export; `skill build` wires it up. */
export const guest = {
    info() {
        return {
            name: INFO.name,
            version: INFO.version,
            description: INFO.description ?? '',
            author: INFO.author,
            license: INFO.license,
            repository: INFO.repository,
        };
    },
    tools() {
        return (registered?.tools ?? []).map(({ handler: _handler, details: _details, ...t }) => t);
    },
    describeTools() {
        return (registered?.tools ?? []).map((t) => t.details);
    },
    execute(name, args) {
        const tool = registered?.tools.find((t) => t.name === name);
        if (!tool)
            throw { tag: 'unknown-tool', val: name };
        const values = {};
        for (const { name: key, value } of args) {
            values[key] = fromWit(value);
        }
        let result;
        try {
            result = tool.handler(values);
        }
        catch (e) {
            throw toToolError(e);
        }
        // An async handler (fetch, timers): componentize-js runs the event loop until the
        // returned promise settles; a rejection becomes the tool error.
        if (isPromise(result)) {
            return result.then(toOutput, (e) => {
                throw toToolError(e);
            });
        }
        return toOutput(result);
    },
    validateConfig(entries) {
        if (!registered?.validateConfig)
            return;
        let message;
        try {
            message = registered.validateConfig(Object.fromEntries(entries));
        }
        catch (e) {
            throw e instanceof Error ? e.message : String(e);
        }
        if (typeof message === 'string' && message.length > 0)
            throw message;
    },
};
