/** The type of a tool parameter, as the host checks and converts it. */
export type ParamType = 'string' | 'integer' | 'number' | 'boolean' | 'json' | 'file';

type ValueOf<T extends ParamType> =
  T extends 'integer' | 'number' ? number :
  T extends 'boolean' ? boolean :
  T extends 'json' ? unknown :
  string;

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

export type Args<P extends Record<string, ParamDef>> = {
  [K in keyof P]: P[K] extends ParamDef<infer T>
    ? (P[K] extends { required: false } ? ValueOf<T> | undefined : ValueOf<T>)
    : never;
};

/** What a handler returns: text, `{ text, data }`, or any JSON value (shown as JSON). */
export type ToolResult = string | { text: string; data?: unknown } | unknown;

export interface ToolDef<P extends Record<string, ParamDef> = Record<string, ParamDef>> {
  description: string;
  params?: P;
  /** May be async (fetch, timers): the call waits for the promise. */
  handler: (args: Args<P>) => ToolResult | Promise<ToolResult>;
}

export interface SkillDefinition {
  tools: { [name: string]: ToolDef<any> };
  /** Returns an error message (or throws) when the instance configuration is unusable. */
  validateConfig?: (config: Record<string, string>) => string | void;
}

export declare function defineSkill<D extends SkillDefinition>(definition: D): D;

/** Helps TypeScript infer a tool's argument types from its params. */
export declare function tool<P extends Record<string, ParamDef>>(def: ToolDef<P>): ToolDef<P>;

export type ToolErrorKind = 'invalid-args' | 'not-configured' | 'failed';

export declare class ToolError extends Error {
  readonly kind: ToolErrorKind;
  constructor(kind: ToolErrorKind, message: string);
  static invalidArgs(message: string): ToolError;
  static notConfigured(message: string): ToolError;
  static failed(message: string): ToolError;
}

export declare const config: {
  get(key: string): string | undefined;
  /** Throws a `not-configured` ToolError when the key is missing. */
  require(key: string): string;
};

export declare const log: {
  trace(message: unknown): void;
  debug(message: unknown): void;
  info(message: unknown): void;
  warn(message: unknown): void;
  error(message: unknown): void;
};

export declare function progress(percent: number | undefined, message?: string): void;
