import { errorText, isError, PREFIX } from 'vite-plugin-generated-images/errors';

/**
 * Our error as Astro reports it: the prefixed message, Astro's `hint` field
 * (its overlay and terminal show it under the message), and the first
 * location as `loc`, for which Astro prints a code frame.
 */
export function forAstro(error: unknown): unknown {
  if (!isError(error)) return error;
  const loc = error.locations[0];
  return Object.assign(new Error(`${PREFIX} ${errorText(error)}`), { name: 'GeneratedImagesError', code: error.code, hint: error.hint, ...(loc ? { loc: { ...loc } } : {}) });
}
