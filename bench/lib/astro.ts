import { promises as fs } from 'node:fs';
import path from 'node:path';
import { measure, type Run } from './measure.ts';
import type { Original } from './originals.ts';
import { REPO } from './paths.ts';
import { check } from './report.ts';
import type { ImageSettings } from './sites.ts';

export const ASTRO_BIN = path.join(REPO, 'node_modules', 'astro', 'bin', 'astro.mjs');

const SIZES = '(min-width: 1024px) 33vw, 100vw';

function page(imports: string[], cards: string[]): string {
  return `---
${imports.join('\n')}
---
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Photographs</title>
  </head>
  <body>
    <main class="grid">
${cards.join('\n')}
    </main>
  </body>
</html>
<style>
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1rem; }
</style>
`;
}

const card = (index: number, image: string) => `      <article>
        ${image}
        <h2>Photograph ${index}</h2>
        <p>Hills under a clear sky in soft evening light, number ${index} of the series.</p>
      </article>`;

async function project(dir: string, config: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(path.join(dir, 'src', 'pages'), { recursive: true });
  await fs.writeFile(path.join(dir, 'package.json'), `${JSON.stringify({ name: path.basename(dir), private: true, type: 'module' }, null, 2)}\n`);
  await fs.writeFile(path.join(dir, 'astro.config.mjs'), config);
}

/** An Astro site whose pictures are `<GeneratedImage>`s; the cache folder is added by the caller. */
export async function writeAstroSite(dir: string, images: Original[], settings: ImageSettings): Promise<void> {
  await project(dir, `import { defineConfig } from 'astro/config';
import generatedImages from 'astro-generated-images';

export default defineConfig({
  integrations: [generatedImages(${JSON.stringify({ formats: settings.formats, widths: settings.widths })})],
});
`);
  const cards = images.map((image) => card(image.index, `<GeneratedImage prompt=${JSON.stringify(image.prompt)} ratio="16:9" alt="Photograph ${image.index}" sizes="${SIZES}" />`));
  await fs.writeFile(path.join(dir, 'src', 'pages', 'index.astro'), page(["import { GeneratedImage } from 'astro-generated-images/components';"], cards));
}

/** The same site with astro:assets: the pictures committed under src/images and shown with `<Picture>`, same formats and widths. */
export async function writeAstroAssetsSite(dir: string, images: Original[], settings: ImageSettings): Promise<void> {
  await project(dir, "import { defineConfig } from 'astro/config';\n\nexport default defineConfig({});\n");
  await fs.mkdir(path.join(dir, 'src', 'images'), { recursive: true });
  for (const image of images) await fs.copyFile(image.file, path.join(dir, 'src', 'images', `${image.index}.png`));
  const imports = ["import { Picture } from 'astro:assets';", ...images.map((image) => `import photo${image.index} from '../images/${image.index}.png';`)];
  const cards = images.map((image) =>
    card(image.index, `<Picture src={photo${image.index}} formats={${JSON.stringify(settings.formats)}} widths={${JSON.stringify(settings.widths)}} sizes="${SIZES}" alt="Photograph ${image.index}" />`),
  );
  await fs.writeFile(path.join(dir, 'src', 'pages', 'index.astro'), page(imports, cards));
}

export function astroBuild(dir: string): Promise<Run> {
  return measure(ASTRO_BIN, ['build'], { cwd: dir, env: { CI: 'true', AGNIC_API_KEY: undefined, AGNIC_BASE_URL: undefined, ASTRO_TELEMETRY_DISABLED: '1' } });
}

/** The built page shows every picture, and every file it references is in the output. Returns the output's image files. */
export async function checkAstroOutput(dir: string, pictures: number): Promise<{ files: number; bytes: number }> {
  const html = await fs.readFile(path.join(dir, 'dist', 'index.html'), 'utf8');
  check(!html.includes('GeneratedImage'), `${dir}: a <GeneratedImage> tag survived the build`);
  const count = (re: RegExp) => html.match(re)?.length ?? 0;
  check(count(/<picture[\s>]/g) === pictures, `${dir}: expected ${pictures} <picture> elements, found ${count(/<picture[\s>]/g)}`);
  for (const match of html.matchAll(/(?:src|srcset)="([^"]+)"/g)) {
    for (const candidate of match[1]!.split(',')) {
      const url = candidate.trim().split(/\s+/)[0]!;
      if (!url.startsWith('/') || url.startsWith('//')) continue;
      const exists = await fs.stat(path.join(dir, 'dist', decodeURIComponent(url))).then(() => true, () => false);
      check(exists, `${dir}: the page references ${url}, which is not in dist/`);
    }
  }
  let files = 0;
  let bytes = 0;
  const walk = async (d: string) => {
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (/\.(avif|webp|png|jpe?g)$/.test(entry.name)) {
        files++;
        bytes += (await fs.stat(full)).size;
      }
    }
  };
  await walk(path.join(dir, 'dist'));
  return { files, bytes };
}
