// `node --import ./test/register.mjs --test test/`: outside a component there is no
// `skill-engine:skill/host` module, so the tests get a recording stand-in (fake-host.mjs).
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
