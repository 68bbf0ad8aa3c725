// Runs componentize-js (StarlingMonkey) on a bundled skill. Called by `skill build`:
//   node componentize.mjs <bundle.js> <wit dir> <world> <out.wasm> <source name> <http|no-http>
// The source is passed as text under a fixed name so no path of this machine ends up in the
// component (two builds of the same bundle are byte-identical).
import { componentize } from '@bytecodealliance/componentize-js';
import { readFile, writeFile } from 'node:fs/promises';

const [bundle, witPath, worldName, out, sourceName, http] = process.argv.slice(2);
try {
  const source = await readFile(bundle, 'utf8');
  const { component } = await componentize(source, {
    witPath,
    worldName,
    sourceName,
    // The build's reproducible Wizer (stopped clocks, fixed random bytes and paths).
    ...(process.env.SKILL_WIZER_BIN ? { wizerBin: process.env.SKILL_WIZER_BIN } : {}),
    // fetch() needs wasi:http; a skill that declares no network access does not import it.
    // Skills never serve HTTP themselves (fetch-event).
    disableFeatures: http === 'http' ? ['fetch-event'] : ['http', 'fetch-event'],
  });
  await writeFile(out, component);
} catch (e) {
  // componentize-js reports JS errors (syntax, top-level exceptions) in its message.
  process.stderr.write(`${e && e.message ? e.message : e}\n`);
  process.exit(1);
}
