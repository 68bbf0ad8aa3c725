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
