/** The type of a tool parameter, as the host checks and converts it. */
export type ParamType = 'string' | 'integer' | 'number' | 'boolean' | 'json' | 'file';
type ValueOf<T extends ParamType> = T extends 'integer' | 'number' ? number : T extends 'boolean' ? boolean : T extends 'json' ? unknown : string;
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
    [K in keyof P]: P[K] extends ParamDef<infer T> ? P[K] extends {
        required: false;
    } ? ValueOf<T> | undefined : ValueOf<T> : never;
};
/** What a handler returns: text, `{ text, data }`, or any JSON value (shown as JSON). */
export type ToolResult = string | {
    text: string;
    data?: unknown;
} | unknown;
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
    tools: {
        [name: string]: ToolDef<any>;
    };
    /** Returns an error message (or throws) when the instance configuration is unusable. */
    validateConfig?: (config: Record<string, string>) => string | void;
}
export type ToolErrorKind = 'invalid-args' | 'not-configured' | 'failed';
/** A tool error the caller sees as such (not a crash). */
export declare class ToolError extends Error {
    readonly kind: ToolErrorKind;
    constructor(kind: ToolErrorKind, message: string);
    static invalidArgs(message: string): ToolError;
    static notConfigured(message: string): ToolError;
    static failed(message: string): ToolError;
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
type WitValue = {
    tag: 'text';
    val: string;
} | {
    tag: 'integer';
    val: bigint;
} | {
    tag: 'number';
    val: number;
} | {
    tag: 'boolean';
    val: boolean;
} | {
    tag: 'json';
    val: string;
};
interface WitOutput {
    text: string;
    data: string | undefined;
}
/** Declares the skill's tools. Call it once, at the top level of the entry module. */
export declare function defineSkill<D extends SkillDefinition>(definition: D): D;
/** Identity helper so TypeScript infers each tool's argument types from its params. */
export declare function tool<P extends Record<string, ParamDef>>(def: ToolDef<P>): ToolDef<P>;
/** Instance configuration (secrets included), read from the host for this call only. */
export declare const config: {
    get(key: string): string | undefined;
    /** Throws a `not-configured` ToolError when the key is missing. */
    require(key: string): string;
};
/** Structured logs (shown by `skill run -v`, sent to MCP clients as log messages). */
export declare const log: {
    trace(message: unknown): void;
    debug(message: unknown): void;
    info(message: unknown): void;
    warn(message: unknown): void;
    error(message: unknown): void;
};
/** Reports progress: percent 0-100 (or undefined when unknown) and a message. */
export declare function progress(percent: number | undefined, message?: string): void;
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
export declare function callTool(skill: string, tool: string, args?: Record<string, unknown>): CalledOutput;
/** The component's `guest` export; `skill build` wires it up. */
export declare const guest: {
    info(): {
        name: string;
        version: string;
        description: string;
        author: string | undefined;
        license: string | undefined;
        repository: string | undefined;
    };
    tools(): WitTool[];
    describeTools(): WitToolDetails[];
    execute(name: string, args: {
        name: string;
        value: WitValue;
    }[]): WitOutput | Promise<WitOutput>;
    validateConfig(entries: [string, string][]): void;
};
export {};
