// A baseURL that carries a token (in its query, its fragment or its user
// info) is refused before anything runs, and the refusal never repeats it.
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../packages/vite-plugin/src/core/options.ts';
import { makeProject, removeProject, tag, TINY, viteBuild } from './helpers.ts';

const TOKEN = 'agnic_tok_in_the_url_5e2f0c9d';

describe('baseURL', () => {
  it.each([
    [`https://api.agnic.ai/v1?api_key=${TOKEN}`, 'baseURL must not have a query string or fragment (got https://api.agnic.ai/v1?…); pass the token as apiKey or AGNIC_API_KEY, never in the URL'],
    [`https://api.agnic.ai/v1?token=${TOKEN}&x=1`, 'baseURL must not have a query string or fragment (got https://api.agnic.ai/v1?…)'],
    [`https://api.agnic.ai/v1#${TOKEN}`, 'baseURL must not have a query string or fragment (got https://api.agnic.ai/v1#…)'],
    [`https://user:${TOKEN}@api.agnic.ai/v1`, 'baseURL must not contain credentials; pass the token as apiKey or AGNIC_API_KEY'],
    [`not a url?key=${TOKEN}`, 'baseURL must be an absolute http(s) URL such as https://api.agnic.ai/v1, got "not a url?…"'],
    [`ftp://u:${TOKEN}@example.com/v1?k=${TOKEN}`, 'baseURL must use http or https, got "ftp://…@example.com/v1?…"'],
  ])('%s is refused without echoing the token', (baseURL, message) => {
    for (const source of [{ user: { baseURL }, env: {} }, { user: {}, env: { AGNIC_BASE_URL: baseURL } }]) {
      let error: Error | undefined;
      try {
        resolveOptions(source.user, { root: '/site', env: source.env });
      } catch (caught) {
        error = caught as Error;
      }
      expect(error?.message).toContain(message);
      expect(error?.message).not.toContain(TOKEN);
    }
  });

  it('a build with such a baseURL fails before any request, and its output never holds the token', async () => {
    const root = await makeProject('base-url', tag('A kite'));
    try {
      const built = await viteBuild(root, { ...TINY, apiKey: 'agnic_tok_other', baseURL: `http://127.0.0.1:9/v1?key=${TOKEN}` });
      expect(built.error?.message).toContain('baseURL must not have a query string or fragment');
      expect(`${built.error?.message}\n${built.error?.stack}\n${built.logs}`).not.toContain(TOKEN);
    } finally {
      await removeProject(root);
    }
  });
});
