import { defineSkill, tool } from '@skill-engine/sdk';

defineSkill({
  tools: {
    greet: tool({
      description: 'Say hello to someone',
      params: {
        name: { type: 'string', description: 'Who to greet' },
      },
      handler: ({ name }) => `Hello, ${name}!`,
    }),
  },
});
