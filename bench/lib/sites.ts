import { promises as fs } from 'node:fs';
import path from 'node:path';
import { HEIGHT, WIDTH, type Original } from './originals.ts';

export interface ImageSettings {
  formats: Array<'avif' | 'webp'>;
  widths: number[];
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** A page of cards, each with an image: the shape of a blog index or a product grid. */
function page(title: string, cards: string[]): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>${title}</title>
    <link rel="stylesheet" href="/src/style.css" />
  </head>
  <body>
    <main class="grid">
${cards.join('\n')}
    </main>
    <script type="module" src="/src/main.js"></script>
  </body>
</html>
`;
}

const card = (index: number, image: string) => `      <article class="card">
        ${image}
        <h2>Photograph ${index}</h2>
        <p>Hills under a clear sky in soft evening light, number ${index} of the series.</p>
      </article>`;

async function common(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(path.join(dir, 'src'), { recursive: true });
  await fs.writeFile(path.join(dir, 'package.json'), `${JSON.stringify({ name: path.basename(dir), private: true, type: 'module' }, null, 2)}\n`);
  await fs.writeFile(path.join(dir, 'src', 'style.css'), '.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1rem; }\n.card img { width: 100%; height: auto; }\n');
  await fs.writeFile(path.join(dir, 'src', 'main.js'), "document.querySelectorAll('.card').forEach((card, i) => card.setAttribute('data-index', String(i)));\n");
}

/** The site with the plugin: one `<GeneratedImage>` per picture; the cache folder is added by the caller. */
export async function writeViteSite(dir: string, images: Original[], settings: ImageSettings): Promise<void> {
  await common(dir);
  const cards = images.map((image) =>
    card(image.index, `<GeneratedImage prompt="${escape(image.prompt)}" ratio="16:9" alt="Photograph ${image.index}" sizes="(min-width: 1024px) 33vw, 100vw" />`),
  );
  await fs.writeFile(path.join(dir, 'index.html'), page('With generated images', cards));
  await fs.writeFile(
    path.join(dir, 'vite.config.js'),
    `import { defineConfig } from 'vite';
import generatedImages from 'vite-plugin-generated-images';

export default defineConfig({
  plugins: [generatedImages(${JSON.stringify({ formats: settings.formats, widths: settings.widths })})],
});
`,
  );
}

/**
 * The same site without the plugin: plain `<img>` tags pointing at the same
 * pictures, committed under public/ and copied as they are — a build that
 * does no image work at all.
 */
export async function writePlainSite(dir: string, images: Original[]): Promise<void> {
  await common(dir);
  await fs.mkdir(path.join(dir, 'public', 'images'), { recursive: true });
  for (const image of images) await fs.copyFile(image.file, path.join(dir, 'public', 'images', `${image.index}.png`));
  const cards = images.map((image) =>
    card(image.index, `<img src="/images/${image.index}.png" width="${WIDTH}" height="${HEIGHT}" alt="Photograph ${image.index}" loading="lazy" decoding="async" />`),
  );
  await fs.writeFile(path.join(dir, 'index.html'), page('With plain images', cards));
  await fs.writeFile(path.join(dir, 'vite.config.js'), "import { defineConfig } from 'vite';\n\nexport default defineConfig({});\n");
}

/** A fresh clone of a site: its committed files only, in a new folder (no dist, no node_modules/.cache). */
export async function freshClone(template: string, dir: string): Promise<string> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.cp(template, dir, {
    recursive: true,
    filter: (source) => {
      const name = path.basename(source);
      return name !== 'dist' && name !== 'node_modules' && name !== '.astro' && !name.startsWith('.lock');
    },
  });
  return dir;
}
