// Records what the SDK asks of the host; tests set `globalThis.hostConfig`.
globalThis.hostCalls = [];
globalThis.hostConfig = {};

export function configGet(key) {
  globalThis.hostCalls.push(['configGet', key]);
  return globalThis.hostConfig[key];
}

export function log(level, message) {
  globalThis.hostCalls.push(['log', level, message]);
}

export function progress(percent, message) {
  globalThis.hostCalls.push(['progress', percent, message]);
}

// `globalThis.hostCallTool(skill, tool, args)` answers callTool when a test sets it.
export function callTool(skill, tool, args) {
  globalThis.hostCalls.push(['callTool', skill, tool, args]);
  return globalThis.hostCallTool(skill, tool, args);
}
