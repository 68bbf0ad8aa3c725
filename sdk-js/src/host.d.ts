// The contract's host interface (wit/skill.wit), as componentize-js exposes it to the bundle.
declare module 'skill-engine:skill/host@0.1.0' {
  export function configGet(key: string): string | undefined;
  export function log(level: 'trace' | 'debug' | 'info' | 'warn' | 'error', message: string): void;
  export function progress(percent: number | undefined, message: string): void;
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
