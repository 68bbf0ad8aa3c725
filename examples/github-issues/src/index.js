// GitHub issues over the REST API. The token is a per-instance secret
// (`skill config github-issues@me --set token`); requests go out through the sandbox, which
// lets them reach only the hosts this instance was granted (api.github.com by default).
import { defineSkill, config, log, ToolError } from '@skill-engine/sdk';

function repository(repo) {
  const name = repo || config.get('repo');
  if (!name) throw ToolError.invalidArgs('name a repository (repo=owner/name) or configure a default `repo`');
  if (!/^[\w.-]+\/[\w.-]+$/.test(name)) throw ToolError.invalidArgs(`\`${name}\` is not owner/name`);
  return name;
}

async function github(method, path, body) {
  const root = (config.get('api_url') || 'https://api.github.com').replace(/\/+$/, '');
  const headers = {
    accept: 'application/vnd.github+json',
    authorization: `Bearer ${config.require('token')}`,
    'user-agent': 'skill-github-issues',
    'x-github-api-version': '2022-11-28',
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  log.debug(`${method} ${path}`);
  let response;
  try {
    response = await fetch(`${root}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw ToolError.failed(`could not reach ${root}: ${e && e.message ? e.message : e}`);
  }
  const text = await response.text();
  if (response.status === 401) throw ToolError.notConfigured('GitHub rejected the token (401); set a valid one');
  if (!response.ok) {
    let message = text;
    try {
      message = JSON.parse(text).message ?? text;
    } catch {}
    throw ToolError.failed(`GitHub answered ${response.status}: ${message}`);
  }
  return text ? JSON.parse(text) : null;
}

defineSkill({
  tools: {
    'list-issues': {
      description: 'List the issues of a repository (pull requests left out)',
      title: 'List GitHub issues',
      annotations: { readOnly: true, openWorld: true },
      params: {
        repo: { type: 'string', description: 'owner/name (default: the configured repo)', default: '' },
        state: { type: 'string', description: 'Which issues', choices: ['open', 'closed', 'all'], default: 'open' },
        limit: { type: 'integer', description: 'At most this many (1-100)', default: 30 },
      },
      handler: async ({ repo, state, limit }) => {
        const name = repository(repo);
        const perPage = Math.max(1, Math.min(100, limit));
        const items = await github('GET', `/repos/${name}/issues?state=${state}&per_page=${perPage}`);
        const issues = items
          .filter((i) => !i.pull_request)
          .map((i) => ({ number: i.number, title: i.title, state: i.state, url: i.html_url }));
        const text = issues.length
          ? issues.map((i) => `#${i.number} ${i.title}`).join('\n')
          : `no ${state === 'all' ? '' : state + ' '}issues in ${name}`;
        return { text, data: issues };
      },
    },
    'create-issue': {
      description: 'Open a new issue',
      title: 'Open a GitHub issue',
      annotations: { readOnly: false, destructive: false, idempotent: false, openWorld: true },
      outputSchema: {
        type: 'object',
        properties: { number: { type: 'integer' }, url: { type: 'string' } },
        required: ['number', 'url'],
      },
      params: {
        title: { type: 'string', description: 'The title' },
        body: { type: 'string', description: 'The text (Markdown)', default: '' },
        repo: { type: 'string', description: 'owner/name (default: the configured repo)', default: '' },
      },
      handler: async ({ title, body, repo }) => {
        const name = repository(repo);
        if (!title.trim()) throw ToolError.invalidArgs('the title is empty');
        const issue = await github('POST', `/repos/${name}/issues`, { title, body });
        return { text: `created #${issue.number}: ${issue.html_url}`, data: { number: issue.number, url: issue.html_url } };
      },
    },
  },
  validateConfig: (values) => {
    if (values.repo && !/^[\w.-]+\/[\w.-]+$/.test(values.repo)) return '`repo` must be owner/name';
    if (values.api_url && !/^https?:\/\//.test(values.api_url)) return '`api_url` must start with https://';
  },
});
