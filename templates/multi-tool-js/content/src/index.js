import { defineSkill, config, log, progress, ToolError } from '@skill-engine/sdk';

defineSkill({
  tools: {
    greet: {
      description: 'Say hello to someone, with the configured greeting',
      params: {
        name: { type: 'string', description: 'Who to greet' },
      },
      handler: ({ name }) => `${config.get('greeting') ?? 'Hello'}, ${name}!`,
    },
    'word-count': {
      description: 'Count the words and characters of a text',
      params: {
        text: { type: 'string', description: 'The text to count' },
      },
      handler: ({ text }) => {
        const words = text.split(/\s+/).filter(Boolean);
        const max = Number(config.get('max_words') ?? 10000);
        if (words.length > max) {
          throw ToolError.invalidArgs(`the text has ${words.length} words; this instance accepts at most ${max}`);
        }
        log.debug(`counted ${words.length} words`);
        return { text: `${words.length} words, ${text.length} characters`, data: { words: words.length, characters: text.length } };
      },
    },
    slugify: {
      description: 'Turn a title into a URL slug',
      params: {
        title: { type: 'string', description: 'The title' },
        separator: { type: 'string', description: 'Between words', default: '-' },
      },
      handler: ({ title, separator }) => {
        progress(50, 'normalizing');
        return title
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, separator)
          .replace(new RegExp(`^${separator}+|${separator}+$`, 'g'), '');
      },
    },
    whoami: {
      description: 'Report which token this instance uses, without revealing it',
      params: {},
      // `require` throws a not-configured tool error when the secret is not set.
      handler: () => `token ending in …${config.require('api_token').slice(-4)}`,
    },
  },
  // Runs on `skill config`: reject values the tools could not work with.
  validateConfig: (values) => {
    if (Number(values.max_words) < 1) return 'max_words must be at least 1';
  },
});
