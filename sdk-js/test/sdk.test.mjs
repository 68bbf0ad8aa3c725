// Unit tests of the JS SDK outside a component. Each test imports a fresh copy of the module
// (defineSkill may run once per module). Built components are tested end to end by the Rust
// test suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';

let copies = 0;
const fresh = () => import(`../index.js?copy=${++copies}`);

test('defineSkill turns params into the contract shape and hides handlers', async () => {
  const sdk = await fresh();
  sdk.defineSkill({
    tools: {
      search: {
        description: 'Search',
        params: {
          query: { type: 'string', description: 'What' },
          limit: { type: 'integer', default: 10 },
          order: { type: 'string', choices: ['new', 'old'], default: 'new' },
          filter: { type: 'json', required: false },
        },
        handler: () => '',
      },
    },
  });
  const [tool] = sdk.guest.tools();
  assert.equal(tool.name, 'search');
  assert.equal(tool.handler, undefined);
  assert.deepEqual(tool.params, [
    { name: 'query', description: 'What', kind: 'string', required: true, defaultValue: undefined, choices: [] },
    { name: 'limit', description: '', kind: 'integer', required: false, defaultValue: '10', choices: [] },
    { name: 'order', description: '', kind: 'string', required: false, defaultValue: '"new"', choices: ['new', 'old'] },
    { name: 'filter', description: '', kind: 'json', required: false, defaultValue: undefined, choices: [] },
  ]);
});

test('title, annotations and output schema go to describeTools; undeclared stays undefined', async () => {
  const sdk = await fresh();
  sdk.defineSkill({
    tools: {
      list: {
        description: 'Lists',
        title: 'List things',
        annotations: { readOnly: true, openWorld: false },
        outputSchema: { type: 'object', properties: { n: { type: 'integer' } } },
        handler: () => ({ text: '1', data: { n: 1 } }),
      },
      plain: { description: 'Plain', handler: () => '' },
    },
  });
  assert.equal(sdk.guest.tools()[0].details, undefined);
  const none = { readOnly: undefined, destructive: undefined, idempotent: undefined, openWorld: undefined };
  assert.deepEqual(sdk.guest.describeTools(), [
    {
      tool: 'list',
      title: 'List things',
      annotations: { ...none, readOnly: true, openWorld: false },
      outputSchema: '{"type":"object","properties":{"n":{"type":"integer"}}}',
    },
    { tool: 'plain', title: undefined, annotations: none, outputSchema: undefined },
  ]);
  const typo = await fresh();
  assert.throws(
    () => typo.defineSkill({ tools: { a: { annotations: { readonly: true }, handler: () => '' } } }),
    /tool 'a' has unknown annotation 'readonly'/,
  );
  const wrong = await fresh();
  assert.throws(
    () => wrong.defineSkill({ tools: { a: { annotations: { readOnly: 'yes' }, handler: () => '' } } }),
    /annotation 'readOnly' of tool 'a' must be true or false/,
  );
});

test('mistakes in the definition are named', async () => {
  const sdk = await fresh();
  assert.throws(() => sdk.defineSkill({ tools: { a: {} } }), /tool 'a' has no handler function/);
  const other = await fresh();
  assert.throws(
    () => other.defineSkill({ tools: { a: { params: { x: { type: 'date' } }, handler() {} } } }),
    /parameter 'x' of tool 'a' has unknown type 'date'/,
  );
  const once = await fresh();
  once.defineSkill({ tools: {} });
  assert.throws(() => once.defineSkill({ tools: {} }), /called twice/);
  assert.throws(() => new once.ToolError('exploded', 'x'), /unknown ToolError kind/);
});

test('execute converts arguments, results and errors', async () => {
  const sdk = await fresh();
  sdk.defineSkill({
    tools: {
      echo: { params: {}, handler: (args) => ({ text: 'ok', data: args }) },
      plain: { params: {}, handler: () => 'text' },
      object: { params: {}, handler: () => ({ a: 1 }) },
      refuse: { params: {}, handler: () => { throw sdk.ToolError.invalidArgs('no'); } },
      crash: { params: {}, handler: () => { throw new Error('boom'); } },
    },
  });
  const out = sdk.guest.execute('echo', [
    { name: 'n', value: { tag: 'integer', val: 42n } },
    { name: 'big', value: { tag: 'integer', val: 2n ** 60n } },
    { name: 'j', value: { tag: 'json', val: '[1,2]' } },
    { name: 's', value: { tag: 'text', val: 'hi' } },
  ]);
  assert.equal(out.text, 'ok');
  const data = JSON.parse(out.data);
  assert.equal(data.n, 42);
  assert.deepEqual(data.j, [1, 2]);
  assert.equal(data.s, 'hi');
  assert.equal(data.big, (2n ** 60n).toString());
  assert.deepEqual(sdk.guest.execute('plain', []), { text: 'text', data: undefined });
  assert.deepEqual(sdk.guest.execute('object', []), { text: '{"a":1}', data: '{"a":1}' });
  assert.throws(() => sdk.guest.execute('refuse', []), (e) => e.tag === 'invalid-args' && e.val === 'no');
  assert.throws(() => sdk.guest.execute('crash', []), (e) => e.tag === 'failed' && e.val === 'boom');
  assert.throws(() => sdk.guest.execute('nope', []), (e) => e.tag === 'unknown-tool');
});

test('a 64-bit integer that does not fit a number stays a BigInt', async () => {
  const sdk = await fresh();
  let seen;
  sdk.defineSkill({ tools: { t: { params: {}, handler: ({ big }) => { seen = big; return ''; } } } });
  sdk.guest.execute('t', [{ name: 'big', value: { tag: 'integer', val: 2n ** 60n } }]);
  assert.equal(seen, 2n ** 60n);
});

test('async handlers resolve to outputs and reject with tool errors', async () => {
  const sdk = await fresh();
  sdk.defineSkill({
    tools: {
      later: { params: {}, handler: async () => 'done' },
      denied: { params: {}, handler: async () => { throw sdk.ToolError.notConfigured('no token'); } },
    },
  });
  assert.deepEqual(await sdk.guest.execute('later', []), { text: 'done', data: undefined });
  await assert.rejects(sdk.guest.execute('denied', []), (e) => e.tag === 'not-configured' && e.val === 'no token');
});

test('config, logs and progress go to the host', async () => {
  const sdk = await fresh();
  globalThis.hostCalls.length = 0;
  globalThis.hostConfig = { token: 't0ken' };
  assert.equal(sdk.config.get('token'), 't0ken');
  assert.equal(sdk.config.require('token'), 't0ken');
  assert.throws(() => sdk.config.require('missing'), (e) => e.kind === 'not-configured');
  sdk.log.warn('careful');
  sdk.progress(140, 'nearly');
  sdk.progress(undefined);
  assert.deepEqual(globalThis.hostCalls.slice(-3), [
    ['log', 'warn', 'careful'],
    ['progress', 100, 'nearly'],
    ['progress', undefined, ''],
  ]);
});

test('validateConfig refusals become the export error', async () => {
  const sdk = await fresh();
  sdk.defineSkill({
    tools: {},
    validateConfig: (c) => (c.n === '0' ? 'n must be positive' : undefined),
  });
  assert.equal(sdk.guest.validateConfig([['n', '1']]), undefined);
  assert.throws(() => sdk.guest.validateConfig([['n', '0']]), (e) => e === 'n must be positive');
});

test('callTool converts arguments, parses data and turns a refusal into a ToolError', async () => {
  const sdk = await fresh();
  globalThis.hostCallTool = (skill, tool, args) => {
    if (tool === 'missing') {
      throw Object.assign(new Error('result error'), { payload: { tag: 'failed', val: 'not declared' } });
    }
    if (tool === 'bad') throw { tag: 'invalid-args', val: 'count: expected an integer' };
    return { text: `${skill}:${tool}`, data: JSON.stringify({ n: args.length }) };
  };
  globalThis.hostCalls.length = 0;
  const out = sdk.callTool('text-tools', 'count', {
    text: 'a b',
    n: 3,
    ratio: 0.5,
    exact: true,
    list: [1, 2],
  });
  assert.deepEqual(out, { text: 'text-tools:count', data: { n: 5 } });
  assert.deepEqual(globalThis.hostCalls.at(-1), [
    'callTool',
    'text-tools',
    'count',
    [
      { name: 'text', value: { tag: 'text', val: 'a b' } },
      { name: 'n', value: { tag: 'integer', val: 3n } },
      { name: 'ratio', value: { tag: 'number', val: 0.5 } },
      { name: 'exact', value: { tag: 'boolean', val: true } },
      { name: 'list', value: { tag: 'json', val: '[1,2]' } },
    ],
  ]);
  assert.throws(() => sdk.callTool('x', 'missing'), (e) => e.kind === 'failed' && e.message === 'not declared');
  assert.throws(() => sdk.callTool('x', 'bad'), (e) => e.kind === 'invalid-args');
});
