import { defineSkill, tool{{#if config}}, config{{/if}} } from '@skill-engine/sdk';

defineSkill({
  tools: {
    greet: tool({
      description: 'Say hello to someone',
      params: {
        name: { type: 'string', description: 'Who to greet' },
      },
      handler: ({ name }) => `Hello, ${name}!`,
    }),
{{#each extra_tools}}
    '{{name}}': tool({
      description: 'Describe what {{name}} does',
      params: {
        input: { type: 'string', description: 'What to work on' },
      },
      handler: ({ input }) => `{{name}}: ${input}`,
    }),
{{/each}}
{{#if config}}
    'check-config': tool({
      description: 'Whether this instance has its API key',
      params: {},
      // `require` throws a not-configured tool error when the key is missing.
      handler: () => `api_key is set (${config.require('api_key').length} characters)`,
    }),
{{/if}}
  },
});
