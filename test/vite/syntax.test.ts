// Which JSX a module is written for decides how its style objects are
// written: Solid takes CSS's own property names, React and Preact camelCase.

import { resolveConfig } from 'vite';
import solid from 'vite-plugin-solid';
import { describe, expect, it } from 'vitest';
import { syntaxOf } from '../../packages/vite-plugin/src/vite/syntax.ts';

const usage = '<GeneratedImage prompt="x" alt="" />';

describe('the JSX a module is written for', () => {
  it('is Solid when the config compiles JSX with vite-plugin-solid', async () => {
    const config = await resolveConfig({ configFile: false, logLevel: 'silent', plugins: [solid()] }, 'build');
    expect(syntaxOf('/site/src/App.tsx', usage, config)).toBe('solid');
    expect(syntaxOf('/site/src/post.mdx', usage, config)).toBe('solid');
  });

  it("follows the module's own @jsxImportSource over the config", async () => {
    const react = await resolveConfig({ configFile: false, logLevel: 'silent' }, 'build');
    const withSolid = await resolveConfig({ configFile: false, logLevel: 'silent', plugins: [solid()] }, 'build');
    expect(syntaxOf('/site/src/App.jsx', usage, react)).toBe('jsx');
    expect(syntaxOf('/site/src/App.jsx', `/** @jsxImportSource solid-js */\n${usage}`, react)).toBe('solid');
    expect(syntaxOf('/site/src/App.jsx', `/** @jsxImportSource preact */\n${usage}`, withSolid)).toBe('jsx');
  });
});
