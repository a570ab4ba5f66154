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
  const astroError = Object.assign(new Error(error.message), {
    name: 'GeneratedImagesError',
    type: 'AstroError',
    code: error.code,
    hint: error.hint,
    stack: '',
    ...(loc ? { loc: { ...loc } } : {}),
  });
  // Astro replaces the hint of any error whose text mentions "window" or "document" with its own about browser APIs
  // on the server: a prompt such as "a cat on a windowsill" would get it. Astro prints name and message, not this.
  Object.defineProperty(astroError, 'toString', { value: () => `GeneratedImagesError [${error.code}]`, enumerable: false });
  return astroError;
}
