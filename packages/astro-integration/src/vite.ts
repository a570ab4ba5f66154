import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import { devPlugin, Sessions, usagesPlugin, type ImagePipeline } from 'vite-plugin-generated-images/core';
import type { PreparedImages } from './prepared.js';

/**
 * The global that tells the component and the middleware, bundled into
 * Astro's server code, which registered host renders for this build. A
 * define rather than a virtual module, so that a site without the
 * integration gets our error saying to add it, not an unresolved import.
 */
export const HOST_ID_GLOBAL = '__ASTRO_GENERATED_IMAGES_HOST__';
/** Where runtime.ts reads the images a build prepared for pages rendered on demand. */
const PREPARED_GLOBAL = '__ASTRO_GENERATED_IMAGES_PREPARED__';
/** runtime.ts as built, beside this file: the one module that reads PREPARED_GLOBAL. */
const RUNTIME_FILE = fileURLToPath(new URL('./runtime.js', import.meta.url));

/** Astro's islands and framework components (JSX, Vue, Svelte): `.astro`, `.md` and `.mdx` render through the component instead. */
const ISLAND_FILES = /\.(jsx|tsx|vue|svelte)(\?.*)?$/;

export interface AstroViteOptions {
  hostId: string;
  pipeline: ImagePipeline;
  buildUrl: (name: string) => string;
  onDevBase: (base: string) => void;
  /** The images the build prepared, once it has (undefined in dev, or when no page can render on demand). */
  prepared: () => PreparedImages | undefined;
  /** Every page is rendered (Astro 6 and later); may throw the error that fails the build. */
  onRendered: () => Promise<void>;
  /** What astro:build:start could not do, to fail the build with before any environment builds (Astro 6 and later). */
  beforeBuild: () => unknown;
}

/**
 * Calls `onRendered` once Astro has rendered every page, where an error is
 * still reported as Astro reports its own (a hook's error comes with "An
 * unhandled error occurred while running the hook"). Astro 6 and later
 * render pages in a `buildApp` hook of their own, after every environment's
 * build; this one joins the end of the plugin list once the config is
 * resolved, so it runs after it. Astro 5 builds without `buildApp`: there
 * `astro:build:done` does the same.
 */
function afterRenderingPlugin(onRendered: () => Promise<void>): Plugin {
  const last: Plugin = { name: 'astro-generated-images:rendered', buildApp: { order: 'post', handler: onRendered } };
  return {
    name: 'astro-generated-images:after-rendering',
    apply: 'build',
    configResolved(config) {
      const plugins = config.plugins as Plugin[];
      if (!plugins.includes(last)) plugins.push(last);
    },
  };
}

/**
 * The Vite side of the integration: a session per Vite run on the
 * integration's pipeline (Astro copies the files its output references
 * itself), the usages transform for islands, the dev server's renderer and
 * file route, and the prepared images compiled into the server bundle.
 */
export function astroVitePlugins(options: AstroViteOptions): Plugin[] {
  const sessions = new Sessions();
  return [
    {
      name: 'astro-generated-images',
      enforce: 'pre',
      config() {
        return { define: { [HOST_ID_GLOBAL]: JSON.stringify(options.hostId) } };
      },
      configResolved(config) {
        sessions.open(config, options.pipeline, undefined, options.buildUrl);
        if (config.command === 'serve') options.onDevBase(config.base);
      },
    },
    {
      name: 'astro-generated-images:prepared',
      apply: 'build',
      transform: {
        filter: { id: new RegExp(`^${RUNTIME_FILE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) },
        handler(code, id) {
          const prepared = options.prepared();
          if (id !== RUNTIME_FILE || !prepared) return undefined;
          return { code: code.replaceAll(PREPARED_GLOBAL, `(${JSON.stringify(prepared)})`), map: null };
        },
      },
    },
    usagesPlugin(sessions, { name: 'astro-generated-images:usages', files: ISLAND_FILES }),
    devPlugin(sessions),
    afterRenderingPlugin(options.onRendered),
    {
      name: 'astro-generated-images:before-build',
      apply: 'build',
      buildApp: {
        order: 'pre',
        async handler() {
          const error = options.beforeBuild();
          if (error) throw error;
        },
      },
    },
  ];
}
