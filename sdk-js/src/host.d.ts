// The contract's host interface (wit/skill.wit), as componentize-js exposes it to the bundle.
declare module 'skill-engine:skill/host@0.3.0' {
  export function configGet(key: string): string | undefined;
  export function log(level: 'trace' | 'debug' | 'info' | 'warn' | 'error', message: string): void;
  export function progress(percent: number | undefined, message: string): void;
  /** Returns the output, or throws the `tool-error` (as the error's `payload`, or itself). */
  export function callTool(
    skill: string,
    tool: string,
    args: {
      name: string;
      value:
        | { tag: 'text'; val: string }
        | { tag: 'integer'; val: bigint }
        | { tag: 'number'; val: number }
        | { tag: 'boolean'; val: boolean }
        | { tag: 'json'; val: string };
    }[],
  ): { text: string; data: string | undefined };
}

/** Injected by `skill build` (esbuild --define) from skill.yaml. */
declare const __SKILL_INFO__:
  | {
      name: string;
      version: string;
      description?: string;
      author?: string;
      license?: string;
      repository?: string;
    }
  | undefined;

/** Injected by `skill build` (esbuild --define): the engine the bundle runs on. */
declare const __SKILL_JS_ENGINE__: 'starlingmonkey' | 'quickjs' | undefined;
