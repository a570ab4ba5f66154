import { isError } from 'vite-plugin-generated-images/errors';

/**
 * Our error as Astro reports its own: `type: 'AstroError'` makes Astro's
 * terminal print `[GeneratedImagesError] message`, then the `hint` under
 * it, then the first location as `loc` (with a code frame in its overlay).
 * No stack: it would show only our own frames, and Astro prints any stack
 * it finds under the message.
 */
export function forAstro(error: unknown): unknown {
  if (!isError(error)) return error;
  const loc = error.locations[0];
  return Object.assign(new Error(error.message), {
    name: 'GeneratedImagesError',
    type: 'AstroError',
    code: error.code,
    hint: error.hint,
    stack: '',
    ...(loc ? { loc: { ...loc } } : {}),
  });
}
