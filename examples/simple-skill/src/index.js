import { defineSkill, ToolError } from '@skill-engine/sdk';

defineSkill({
  tools: {
    greet: {
      description: 'Say hello to someone',
      params: { name: { type: 'string', description: 'Who to greet' } },
      handler: ({ name }) => `Hello, ${name}!`,
    },
    reverse: {
      description: 'Reverse a text (by characters, not bytes)',
      params: { text: { type: 'string', description: 'The text' } },
      handler: ({ text }) => [...text].reverse().join(''),
    },
    sum: {
      description: 'Add up numbers',
      title: 'Add up numbers',
      annotations: { readOnly: true, idempotent: true, openWorld: false },
      outputSchema: {
        type: 'object',
        properties: { total: { type: 'number' }, count: { type: 'integer' } },
        required: ['total', 'count'],
      },
      params: { numbers: { type: 'json', description: 'A JSON array of numbers' } },
      handler: ({ numbers }) => {
        if (!Array.isArray(numbers) || !numbers.every((n) => typeof n === 'number')) {
          throw ToolError.invalidArgs('numbers must be a JSON array of numbers');
        }
        const total = numbers.reduce((a, b) => a + b, 0);
        return { text: String(total), data: { total, count: numbers.length } };
      },
    },
  },
});
