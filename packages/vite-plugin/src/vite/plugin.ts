import type { Plugin } from 'vite';
import type { GeneratedImagesOptions } from '../core/options.js';
import { PLUGIN_NAME } from './overlay.js';
import { devPlugin } from './plugins/dev.js';
import { errorsPlugin } from './plugins/errors.js';
import { htmlPlugin, htmlTidyPlugin } from './plugins/html.js';
import { outputPlugin, scanPlugin } from './plugins/build.js';
import { hostPlugin } from './plugins/host.js';
import { usagesPlugin } from './plugins/usages.js';
import { Sessions } from './session.js';
import { MODULE_FILTER } from './syntax.js';

/**
 * `<GeneratedImage prompt="…" ratio="16:9" alt="…" />` in HTML entries and
 * in JSX, MDX, Vue, Svelte and Markdown modules becomes optimized `<picture>`
 * markup at build time, from the committed cache or generated through the
 * gateway. Several small plugins, one concern each, sharing one session per
 * resolved config.
 */
export function generatedImages(options: GeneratedImagesOptions = {}): Plugin[] {
  const sessions = new Sessions();
  return [
    hostPlugin(sessions, options),
    scanPlugin(sessions),
    usagesPlugin(sessions, { name: `${PLUGIN_NAME}:usages`, files: MODULE_FILTER.id }),
    htmlPlugin(sessions),
    htmlTidyPlugin(),
    devPlugin(sessions, { takesLink: true }),
    outputPlugin(sessions),
    errorsPlugin(),
  ];
}
