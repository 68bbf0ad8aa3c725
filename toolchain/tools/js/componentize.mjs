// Runs componentize-js (StarlingMonkey) on a bundled skill. Called by `skill build`:
//   node componentize.mjs <bundle.js> <wit dir> <world> <out.wasm> <source name>
// The source is passed as text under a fixed name so no path of this machine ends up in the
// component (two builds of the same bundle are byte-identical).
import { componentize } from '@bytecodealliance/componentize-js';
import { readFile, writeFile } from 'node:fs/promises';

const [bundle, witPath, worldName, out, sourceName] = process.argv.slice(2);
try {
  const source = await readFile(bundle, 'utf8');
  const { component } = await componentize(source, {
    witPath,
    worldName,
    sourceName,
    // wasi:http arrives with the sandbox's network grants; until then a skill gets none.
    disableFeatures: ['http', 'fetch-event'],
  });
  await writeFile(out, component);
} catch (e) {
  // componentize-js reports JS errors (syntax, top-level exceptions) in its message.
  process.stderr.write(`${e && e.message ? e.message : e}\n`);
  process.exit(1);
}
