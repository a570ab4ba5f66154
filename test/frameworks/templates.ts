import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { addPlugin, edit, expectOk, installPlugin, npx, tempFolder } from './helpers.ts';

const USAGE = (syntax: 'html' | 'jsx') => `<GeneratedImage prompt="A paper boat on a puddle, watercolour" ratio="3:2" alt="Paper boat"${syntax === 'jsx' ? ' className' : ' class'}="boat" />`;
const JSX_IMPORT = `import { GeneratedImage } from 'vite-plugin-generated-images/jsx'\n`;

export interface Template {
  name: string;
  /** The file the usage goes into, and where. */
  file: string;
  anchor: RegExp;
  syntax: 'html' | 'jsx';
}

export const TEMPLATES: Template[] = [
  { name: 'react-ts', file: 'src/App.tsx', anchor: /<section id="center">/, syntax: 'jsx' },
  { name: 'preact-ts', file: 'src/app.tsx', anchor: /<section id="center">/, syntax: 'jsx' },
  { name: 'solid-ts', file: 'src/App.tsx', anchor: /<section id="center">/, syntax: 'jsx' },
  { name: 'vue-ts', file: 'src/App.vue', anchor: /<template>/, syntax: 'html' },
  { name: 'svelte-ts', file: 'src/App.svelte', anchor: /<section id="center">/, syntax: 'html' },
  { name: 'vanilla', file: 'index.html', anchor: /<div id="app"><\/div>/, syntax: 'html' },
];

/** Scaffolds a create-vite template with the plugin installed and one usage added. */
export async function scaffoldTemplate(template: Template, extraPackages: string[] = []): Promise<string> {
  const parent = await tempFolder(template.name);
  expectOk(await npx(['create-vite@9', 'site', '--template', template.name, '--no-interactive'], parent), `create-vite --template ${template.name}`);
  const dir = path.join(parent, 'site');
  const config = path.join(dir, 'vite.config.ts');
  // The vanilla template has no config: a user adds one to use a plugin.
  if (!existsSync(config)) await fs.writeFile(path.join(dir, 'vite.config.js'), `import { defineConfig } from 'vite'\n\nexport default defineConfig({\n  plugins: [],\n})\n`);
  await addPlugin(existsSync(config) ? config : path.join(dir, 'vite.config.js'), { widths: [64, 128] });
  await edit(path.join(dir, template.file), (text) => {
    const withUsage = text.replace(template.anchor, (anchor) => `${anchor}\n${USAGE(template.syntax)}`);
    return template.syntax === 'jsx' ? JSX_IMPORT + withUsage : withUsage;
  });
  await installPlugin(dir, extraPackages);
  return dir;
}

