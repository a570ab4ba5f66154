import { describe, expect, it } from 'vitest';
import { findUsages } from '../../packages/vite-plugin/src/sources/usage.ts';

const file = '/site/src/page.html';

describe('the extractor', () => {
  it('finds a self-closing tag and reads its props', () => {
    const { usages, errors } = findUsages('<p>\n  <GeneratedImage prompt="A beautiful sunset over mountains, oil painting" ratio="16:9" alt="Sunset" />\n</p>', file);
    expect(errors).toEqual([]);
    expect(usages).toHaveLength(1);
    expect(usages[0]).toMatchObject({ prompt: 'A beautiful sunset over mountains, oil painting', ratio: '16:9', variant: 0, alt: { kind: 'string', value: 'Sunset' } });
    expect(usages[0]!.loc).toEqual({ file, line: 2, column: 3 });
  });

  it('accepts a closing tag, any attribute order and single quotes', () => {
    const code = `<GeneratedImage alt='A cat' ratio='4:3' prompt='A cat on a mat'></GeneratedImage>`;
    const { usages, errors } = findUsages(code, file);
    expect(errors).toEqual([]);
    expect(usages[0]).toMatchObject({ prompt: 'A cat on a mat', ratio: '4:3', start: 0, end: code.length });
  });

  it('keeps quotes, newlines (collapsed) and non-ASCII text in prompts', () => {
    const code = `<GeneratedImage prompt='She said "bonjour" —\n   à la café, 東京の夜景 🌃' alt="" />
<GeneratedImage prompt="It&apos;s a &quot;test&quot; &amp; more" alt="x" />`;
    const { usages, errors } = findUsages(code, file);
    expect(errors).toEqual([]);
    expect(usages.map((u) => u.prompt)).toEqual(['She said "bonjour" — à la café, 東京の夜景 🌃', `It's a "test" & more`]);
    expect(usages[0]!.ratio).toBe('1:1');
    expect(usages[1]!.loc.line).toBe(3);
  });

  it('finds several usages per file with their own locations', () => {
    const code = ['<main>', '  <GeneratedImage prompt="one" alt="1" />', '  <div><GeneratedImage prompt="two" alt="2" ratio="9:16"/></div>', '</main>'].join('\n');
    const { usages } = findUsages(code, file);
    expect(usages.map((u) => [u.prompt, u.loc.line, u.loc.column])).toEqual([['one', 2, 3], ['two', 3, 8]]);
  });

  it('reads JSX literals in braces and leaves other attributes as written', () => {
    const code = `<GeneratedImage prompt={"A fox in snow"} ratio={'3:2'} variant={2} widths={[320, 640]} formats={["webp"]} alt={t('fox')} className={styles.hero} data-x="1" />`;
    const { usages, errors } = findUsages(code, '/site/src/App.tsx');
    expect(errors).toEqual([]);
    expect(usages[0]).toMatchObject({ prompt: 'A fox in snow', ratio: '3:2', variant: 2, widths: [320, 640], formats: ['webp'] });
    expect(usages[0]!.alt).toEqual({ kind: 'expression', code: "alt={t('fox')}" });
    expect(usages[0]!.passthrough.map((a) => a.raw)).toEqual(['className={styles.hero}', 'data-x="1"']);
  });

  it('accepts template literals without substitutions, rejects ones with them', () => {
    const ok = findUsages('<GeneratedImage prompt={`A quiet harbour`} alt="" />', '/a.jsx');
    expect(ok.usages[0]!.prompt).toBe('A quiet harbour');
    const bad = findUsages('<GeneratedImage prompt={`A ${animal}`} alt="" />', '/a.jsx');
    expect(bad.usages).toEqual([]);
    expect(bad.errors[0]!.message).toMatch(/^\/a\.jsx:1:17: prompt must be a literal/);
  });

  it('rejects a non-literal prompt with its location', () => {
    const { errors, usages } = findUsages('\n\n    <GeneratedImage prompt={post.hero} alt="x" />', '/site/src/Post.tsx');
    expect(usages).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe('/site/src/Post.tsx:3:21: prompt must be a literal (a quoted string) so that the image can be generated at build time; got the expression {post.hero}');
  });

  it('lets Astro resolve a prompt from an expression at render time', () => {
    const { errors, usages } = findUsages('<GeneratedImage prompt={post.data.heroPrompt} alt="x" />', '/site/src/pages/post.astro', { allowDynamicPrompt: true });
    expect(errors).toEqual([]);
    expect(usages).toEqual([]);
  });

  it('rejects an invalid ratio, listing the allowed ones', () => {
    const { errors } = findUsages('<GeneratedImage prompt="x" ratio="16:10" alt="" />', file);
    expect(errors[0]!.message).toBe(`${file}:1:28: invalid ratio "16:10"; allowed: "1:1", "16:9", "9:16", "4:3", "3:2", "2:3", "3:4", "4:5", "5:4", "21:9"`);
  });

  it('rejects empty and whitespace prompts, missing prompt and missing alt', () => {
    expect(findUsages('<GeneratedImage prompt="" alt="" />', file).errors[0]!.reason).toBe('prompt must be a non-empty string: it is empty or only whitespace');
    expect(findUsages('<GeneratedImage prompt=" \n\t " alt="" />', file).errors[0]!.reason).toMatch(/empty or only whitespace/);
    expect(findUsages('<GeneratedImage alt="" />', file).errors[0]!.reason).toMatch(/^prompt is required/);
    expect(findUsages('<GeneratedImage prompt="x" />', file).errors[0]!.reason).toMatch(/^alt is required/);
  });

  it('rejects a variant that is not a non-negative integer and a bad width list', () => {
    expect(findUsages('<GeneratedImage prompt="x" alt="" variant="-1" />', file).errors[0]!.reason).toMatch(/variant must be an integer >= 0/);
    expect(findUsages('<GeneratedImage prompt="x" alt="" variant={n} />', '/a.jsx').errors[0]!.reason).toMatch(/variant must be a literal/);
    expect(findUsages('<GeneratedImage prompt="x" alt="" widths="640,abc" />', file).errors[0]!.reason).toMatch(/widths must be integers/);
  });

  it('reports malformed tags with their location instead of guessing', () => {
    expect(findUsages('<GeneratedImage prompt="x" alt=""', file).errors[0]!.message).toMatch(/page\.html:1:1: <GeneratedImage> is not closed/);
    expect(findUsages('<GeneratedImage prompt="x alt="" />\n', file).errors[0]!.message).toMatch(/has no closing "|unexpected|not closed/);
    expect(findUsages('<GeneratedImage prompt="x" alt="">', file).errors[0]!.message).toMatch(/has no closing tag/);
    expect(findUsages('<GeneratedImage prompt="x" alt="" {...rest} />', '/a.jsx').errors[0]!.reason).toMatch(/spread props/);
  });

  it('warns about misspelled props with a suggestion', () => {
    const { warnings, usages } = findUsages('<GeneratedImage prompt="x" alt="" ration="16:9" />', file);
    expect(usages).toHaveLength(1);
    expect(warnings[0]!.reason).toBe('unknown prop "ration" on <GeneratedImage> (did you mean "ratio"?); it is passed to the <img> as it is');
  });

  it('ignores usages inside HTML comments and Markdown code fences', () => {
    const html = '<!-- <GeneratedImage prompt="old" alt="" /> -->\n<GeneratedImage prompt="new" alt="" />';
    expect(findUsages(html, file).usages.map((u) => u.prompt)).toEqual(['new']);
    const md = 'Use it like this:\n\n```html\n<GeneratedImage prompt="doc" alt="" />\n```\n\n<GeneratedImage prompt="real" alt="" />\n';
    expect(findUsages(md, '/site/src/post.md').usages.map((u) => u.prompt)).toEqual(['real']);
  });

  it('does not mistake other tags that start with the same name', () => {
    expect(findUsages('<><GeneratedImages items={x} /><GeneratedImage.Foo /></>', '/a.jsx')).toEqual({ usages: [], errors: [], warnings: [] });
  });

  it('reads Vue bindings as expressions', () => {
    const { errors, usages } = findUsages('<template><GeneratedImage prompt="A fox" :alt="t(\'fox\')" :variant="1" /></template>', '/a.vue');
    expect(errors).toEqual([]);
    expect(usages[0]!.variant).toBe(1);
    expect(usages[0]!.alt).toEqual({ kind: 'expression', code: `:alt="t('fox')"` });
    expect(findUsages('<template><GeneratedImage :prompt="p" alt="" /></template>', '/a.vue').errors[0]!.reason).toMatch(/prompt must be a literal/);
  });
});
