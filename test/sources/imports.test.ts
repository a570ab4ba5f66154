// The island transform replaces each <GeneratedImage> with markup; the stub's
// import then goes too (bundlers warn "imported but never used", and keep the
// module in server bundles), unless something else still uses the name. The
// source map still maps what follows to its own line and column.

import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { describe, expect, it } from 'vitest';
import { unusedImports } from '../../packages/vite-plugin/src/sources/imports.ts';
import { spliceUsages } from '../../packages/vite-plugin/src/sources/splice.ts';
import { findUsages } from '../../packages/vite-plugin/src/sources/usage.ts';

const STUB = "'vite-plugin-generated-images/jsx'";
const TAG = '<GeneratedImage prompt="A paper boat" ratio="3:2" alt="Boat" />';

/** What the transform does to a module: every usage replaced by `<img />`, and the import removed when nothing else uses it. */
function transform(code: string, file = '/site/src/Island.jsx') {
  const { usages, errors } = findUsages(code, file);
  expect(errors).toEqual([]);
  return spliceUsages(code, usages, usages.map(() => '<img src="/a.webp" />'), file, unusedImports(code, file, 'GeneratedImage', usages));
}

/** 1-based line and 0-based column of an offset, as source maps count them. */
function position(code: string, offset: number): { line: number; column: number } {
  const before = code.slice(0, offset).split('\n');
  return { line: before.length, column: before.at(-1)!.length };
}

describe('the import of GeneratedImage in a transformed module', () => {
  it('is removed with its line once every usage is replaced, and what follows maps to its own place', () => {
    const code = [
      "import { useState } from 'react';",
      `import { GeneratedImage } from ${STUB};`,
      '',
      'export default function Island() {',
      '  const [open, setOpen] = useState(false);',
      `  return <figure>${TAG}<button onClick={() => setOpen(!open)}>More</button>${TAG}</figure>;`,
      '}',
      "console.info('after the usages');",
      '',
    ].join('\n');
    const out = transform(code);
    expect(out.code).not.toContain(STUB);
    expect(out.code).not.toContain('GeneratedImage');
    expect(out.code.startsWith("import { useState } from 'react';\n\nexport default function Island() {")).toBe(true);
    const statement = "console.info('after the usages')";
    const found = originalPositionFor(new TraceMap(out.map as never), position(out.code, out.code.indexOf(statement)));
    expect({ line: found.line, column: found.column }).toEqual(position(code, code.indexOf(statement)));
  });

  it('keeps the other names of a shared import', () => {
    const file = '/site/src/Island.tsx';
    const code = `import { GeneratedImage, type GeneratedImageProps } from ${STUB};\nexport const props: GeneratedImageProps = { prompt: 'x', alt: '' };\nexport const A = () => ${TAG};\n`;
    expect(transform(code, file).code).toContain(`import { type GeneratedImageProps } from ${STUB};`);
    const last = `import { type GeneratedImageProps, GeneratedImage } from ${STUB};\nexport const A = () => ${TAG};\n`;
    expect(transform(last, file).code).toContain(`import { type GeneratedImageProps } from ${STUB};`);
    const withDefault = `import Stub, { GeneratedImage } from ${STUB};\nexport const B = Stub;\nexport const A = () => ${TAG};\n`;
    expect(transform(withDefault).code).toContain(`import Stub from ${STUB};`);
  });

  it('stays while the name is used for anything but the replaced usages', () => {
    for (const use of ['export const Same = GeneratedImage;', 'export { GeneratedImage };', 'export const Props = (p) => <Wrapper as={GeneratedImage} {...p} />;']) {
      const code = `import { GeneratedImage } from ${STUB};\n${use}\nexport const A = () => ${TAG};\n`;
      const out = transform(code);
      expect(out.code, use).toContain(`import { GeneratedImage } from ${STUB};`);
      expect(out.code, use).not.toContain('<GeneratedImage');
    }
  });
});
