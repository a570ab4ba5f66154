import type { Plugin } from 'vite';
import { isError } from '../../core/errors.js';
import { mayContainUsage } from '../../sources/extract.js';
import { overlayError } from '../overlay.js';
import type { Sessions } from '../session.js';
import { markdownSyntax, MODULE_FILTER, syntaxOf } from '../syntax.js';
import { renderUsagesIn } from '../transform.js';
import { updateModule } from '../dev/hmr.js';

/**
 * Replaces `<GeneratedImage>` in JSX, MDX, Vue, Svelte and Markdown modules
 * (those whose id matches `files`) with the rendered markup, before the
 * framework's compiler sees them (`enforce: 'pre'`).
 */
export function usagesPlugin(sessions: Sessions, options: { name: string; files: RegExp }): Plugin {
  return {
    name: options.name,
    enforce: 'pre',
    transform: {
      // Rolldown runs the handler only for modules that match; older Vite ignores the filter, hence the checks below.
      filter: { id: options.files, code: MODULE_FILTER.code },
      async handler(code, id) {
        if (!options.files.test(id) || !mayContainUsage(code)) return undefined;
        const session = sessions.of(this);
        const syntax = syntaxOf(id, code, session.config, markdownSyntax(session.config.plugins));
        if (!syntax) return undefined;
        const file = id.split('?', 1)[0]!;
        try {
          const onReady = () => session.server && updateModule(session.server, file);
          return await renderUsagesIn(session, code, { file, syntax, environment: this.environment?.name ?? 'client', onReady, emitter: this });
        } catch (error) {
          if (!isError(error)) throw error;
          // Our error itself rather than its fields: Rolldown would give a copy its own stack, and print it.
          this.error(Object.assign(overlayError(error), { id: file }));
        }
      },
    },
  };
}
