import { defineSkill } from '@skill-engine/sdk';

defineSkill({
  tools: {
    greet: {
      description: 'Say hello to someone',
      params: {
        name: { type: 'string', description: 'Who to greet' },
      },
      handler: ({ name }) => `Hello, ${name}!`,
    },
  },
});
