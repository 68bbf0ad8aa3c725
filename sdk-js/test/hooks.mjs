// Module resolution hook: the contract's host interface → the test stand-in.
export async function resolve(specifier, context, next) {
  if (specifier === 'skill-engine:skill/host@0.3.0') {
    return { url: new URL('./fake-host.mjs', import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
