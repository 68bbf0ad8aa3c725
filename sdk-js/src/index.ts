// The JavaScript side of the skill contract (wit/skill.wit). `skill build` bundles this module
// with the author's code; `guest` is what the component exports.
//
// This file is the source; index.js and index.d.ts beside package.json are what tsc makes of
// it (`npm run build`, checked by the tests), so the SDK needs no build step where it is used.
import * as host from 'skill-engine:skill/host@0.3.0';

/** The type of a tool parameter, as the host checks and converts it. */
export type ParamType = 'string' | 'integer' | 'number' | 'boolean' | 'json' | 'file';

type ValueOf<T extends ParamType> = T extends 'integer' | 'number'
  ? number
  : T extends 'boolean'
    ? boolean
    : T extends 'json'
      ? unknown
      : string;

export interface ParamDef<T extends ParamType = ParamType> {
  type?: T;
  description?: string;
  /** Defaults to true unless a default is given. */
  required?: boolean;
  /** Used when the caller omits the argument (makes the parameter optional). */
  default?: ValueOf<T>;
  /** Allowed values; empty or absent means any. */
  choices?: ReadonlyArray<string | number>;
}

/** A handler's arguments, typed from its params. */
export type Args<P extends Record<string, ParamDef>> = {
  [K in keyof P]: P[K] extends ParamDef<infer T>
    ? P[K] extends { required: false }
      ? ValueOf<T> | undefined
      : ValueOf<T>
    : never;
};

/** What a handler returns: text, `{ text, data }`, or any JSON value (shown as JSON). */
export type ToolResult = string | { text: string; data?: unknown } | unknown;

/**
 * How a tool behaves, for hosts deciding whether to ask before a call (MCP tool annotations).
 * Leave out what you do not know: hosts then assume MCP's defaults (not read-only,
 * destructive, not idempotent, open world).
 */
export interface ToolAnnotations {
  /** Changes nothing in its environment. */
  readOnly?: boolean;
  /** May delete or overwrite (meaningful when not read-only). */
  destructive?: boolean;
  /** Calling it again with the same arguments changes nothing more. */
  idempotent?: boolean;
  /** Reaches outside entities (the web), not a closed domain. */
  openWorld?: boolean;
}

export interface ToolDef<P extends Record<string, ParamDef> = Record<string, ParamDef>> {
  description: string;
  /** A short name people read ("List S3 buckets"). */
  title?: string;
  annotations?: ToolAnnotations;
  /**
   * JSON Schema (`type: 'object'`) of the `data` the handler returns. When declared, every
   * successful call must return `{ text, data }` with `data` an object.
   */
  outputSchema?: Record<string, unknown>;
  params?: P;
  /** May be async (fetch, timers): the call waits for the promise. */
  handler: (args: Args<P>) => ToolResult | Promise<ToolResult>;
}

export interface SkillDefinition {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  tools: { [name: string]: ToolDef<any> };
  /** Returns an error message (or throws) when the instance configuration is unusable. */
  validateConfig?: (config: Record<string, string>) => string | void;
}

export type ToolErrorKind = 'invalid-args' | 'not-configured' | 'failed';

const KINDS: readonly ParamType[] = ['string', 'integer', 'number', 'boolean', 'json', 'file'];
const ERROR_KINDS: readonly ToolErrorKind[] = ['invalid-args', 'not-configured', 'failed'];

/** A tool error the caller sees as such (not a crash). */
export class ToolError extends Error {
  readonly kind: ToolErrorKind;

  constructor(kind: ToolErrorKind, message: string) {
    if (!ERROR_KINDS.includes(kind)) {
      throw new TypeError(`unknown ToolError kind '${kind}' (use one of ${ERROR_KINDS.join(', ')})`);
    }
    super(message);
    this.kind = kind;
  }

  static invalidArgs(message: string): ToolError {
    return new ToolError('invalid-args', message);
  }

  static notConfigured(message: string): ToolError {
    return new ToolError('not-configured', message);
  }

  static failed(message: string): ToolError {
    return new ToolError('failed', message);
  }
}

/** The contract's records, as componentize-js passes them. */
interface WitParam {
  name: string;
  description: string;
  kind: ParamType;
  required: boolean;
  defaultValue: string | undefined;
  choices: string[];
}
interface WitTool {
  name: string;
  description: string;
  params: WitParam[];
}
interface WitToolDetails {
  tool: string;
  title: string | undefined;
  annotations: {
    readOnly: boolean | undefined;
    destructive: boolean | undefined;
    idempotent: boolean | undefined;
    openWorld: boolean | undefined;
  };
  outputSchema: string | undefined;
}
type WitValue =
  | { tag: 'text'; val: string }
  | { tag: 'integer'; val: bigint }
  | { tag: 'number'; val: number }
  | { tag: 'boolean'; val: boolean }
  | { tag: 'json'; val: string };
interface WitOutput {
  text: string;
  data: string | undefined;
}
interface WitToolError {
  tag: ToolErrorKind | 'unknown-tool';
  val: string;
}

interface Registered {
  tools: (WitTool & { handler: (args: never) => unknown; details: WitToolDetails })[];
  validateConfig?: (config: Record<string, string>) => string | void;
}

let registered: Registered | null = null;

/** Declares the skill's tools. Call it once, at the top level of the entry module. */
export function defineSkill<D extends SkillDefinition>(definition: D): D {
  if (registered) {
    throw new Error('defineSkill() was called twice; declare every tool in one call');
  }
  const tools: Registered['tools'] = [];
  for (const [name, def] of Object.entries(definition.tools ?? {})) {
    if (typeof def.handler !== 'function') {
      throw new Error(`tool '${name}' has no handler function`);
    }
    const params = Object.entries((def.params ?? {}) as Record<string, ParamDef>).map(
      ([pname, p]): WitParam => {
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
      },
    );
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

const ANNOTATIONS = ['readOnly', 'destructive', 'idempotent', 'openWorld'] as const;

function toolDetails(name: string, def: ToolDef<Record<string, ParamDef>>): WitToolDetails {
  const given = (def.annotations ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(ANNOTATIONS as readonly string[]).includes(key)) {
      throw new Error(`tool '${name}' has unknown annotation '${key}' (use ${ANNOTATIONS.join(', ')})`);
    }
  }
  const hint = (key: (typeof ANNOTATIONS)[number]): boolean | undefined => {
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
export function tool<P extends Record<string, ParamDef>>(def: ToolDef<P>): ToolDef<P> {
  return def;
}

/** Instance configuration (secrets included), read from the host for this call only. */
export const config = {
  get(key: string): string | undefined {
    return host.configGet(key) ?? undefined;
  },
  /** Throws a `not-configured` ToolError when the key is missing. */
  require(key: string): string {
    const value = host.configGet(key);
    if (value === undefined || value === null) {
      throw ToolError.notConfigured(`missing configuration '${key}'`);
    }
    return value;
  },
};

/** Structured logs (shown by `skill run -v`, sent to MCP clients as log messages). */
export const log = {
  trace(message: unknown): void {
    host.log('trace', String(message));
  },
  debug(message: unknown): void {
    host.log('debug', String(message));
  },
  info(message: unknown): void {
    host.log('info', String(message));
  },
  warn(message: unknown): void {
    host.log('warn', String(message));
  },
  error(message: unknown): void {
    host.log('error', String(message));
  },
};

/** Reports progress: percent 0-100 (or undefined when unknown) and a message. */
export function progress(percent: number | undefined, message = ''): void {
  const p =
    percent === undefined || percent === null
      ? undefined
      : Math.max(0, Math.min(100, Math.round(percent)));
  host.progress(p, String(message));
}

/** What another skill's tool returned: its text, and its data parsed from JSON. */
export interface CalledOutput {
  text: string;
  data?: unknown;
}

/**
 * Calls `tool` of another skill, one this skill lists in `skill_dependencies` (skill.yaml);
 * calls to any other skill are refused. The host runs it in that skill's own instance (the one
 * with this instance's name, else `default`) with its own config, permissions and limits, and
 * within what is left of this call's time. Throws a `ToolError` when the call fails.
 */
export function callTool(
  skill: string,
  tool: string,
  args: Record<string, unknown> = {},
): CalledOutput {
  const witArgs = Object.entries(args).map(([name, value]) => ({ name, value: toWit(value) }));
  let output: WitOutput;
  try {
    output = host.callTool(String(skill), String(tool), witArgs);
  } catch (e) {
    // componentize-js throws an Error carrying the `tool-error` as `payload`; QuickJS throws
    // the variant itself.
    const error = ((e as { payload?: unknown })?.payload ?? e) as Partial<WitToolError>;
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
function integer(value: bigint): WitValue {
  const quickjs = typeof __SKILL_JS_ENGINE__ !== 'undefined' && __SKILL_JS_ENGINE__ === 'quickjs';
  return { tag: 'integer', val: (quickjs ? Number(value) : value) as bigint };
}

/** A plain JS value as a contract `value`: the callee's host checks it against the tool. */
function toWit(value: unknown): WitValue {
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

const INFO =
  typeof __SKILL_INFO__ === 'undefined' || __SKILL_INFO__ === undefined
    ? { name: 'unnamed', version: '0.0.0', description: '' }
    : __SKILL_INFO__;

/** A contract `value` as a plain JS value. Integers (s64) arrive as BigInt: they become
 *  numbers when that loses nothing, so handlers can do arithmetic on them. */
function fromWit(value: WitValue): unknown {
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
function stringify(value: unknown): string {
  return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
}

function toOutput(result: unknown): WitOutput {
  if (result === undefined || result === null) return { text: '', data: undefined };
  if (typeof result === 'string') return { text: result, data: undefined };
  if (typeof result === 'object' && typeof (result as { text?: unknown }).text === 'string') {
    const { text, data } = result as { text: string; data?: unknown };
    return { text, data: data === undefined ? undefined : stringify(data) };
  }
  const json = stringify(result);
  return { text: json, data: json };
}

function toToolError(e: unknown): WitToolError {
  if (e instanceof ToolError) return { tag: e.kind, val: e.message };
  return { tag: 'failed', val: e instanceof Error ? e.message : String(e) };
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
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
  tools(): WitTool[] {
    return (registered?.tools ?? []).map(({ handler: _handler, details: _details, ...t }) => t);
  },
  describeTools(): WitToolDetails[] {
    return (registered?.tools ?? []).map((t) => t.details);
  },
  execute(
    name: string,
    args: { name: string; value: WitValue }[],
  ): WitOutput | Promise<WitOutput> {
    const tool = registered?.tools.find((t) => t.name === name);
    if (!tool) throw { tag: 'unknown-tool', val: name } satisfies WitToolError;
    const values: Record<string, unknown> = {};
    for (const { name: key, value } of args) {
      values[key] = fromWit(value);
    }
    let result: unknown;
    try {
      result = (tool.handler as (args: Record<string, unknown>) => unknown)(values);
    } catch (e) {
      throw toToolError(e);
    }
    // An async handler (fetch, timers): componentize-js runs the event loop until the
    // returned promise settles; a rejection becomes the tool error.
    if (isPromise(result)) {
      return result.then(toOutput, (e: unknown) => {
        throw toToolError(e);
      });
    }
    return toOutput(result);
  },
  validateConfig(entries: [string, string][]): void {
    if (!registered?.validateConfig) return;
    let message: string | void;
    try {
      message = registered.validateConfig(Object.fromEntries(entries));
    } catch (e) {
      throw e instanceof Error ? e.message : String(e);
    }
    if (typeof message === 'string' && message.length > 0) throw message;
  },
};
