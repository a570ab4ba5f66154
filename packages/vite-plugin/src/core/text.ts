/** Text helpers shared by every report: one ellipsis rule, one plural rule. */

/** `text` cut to `max` characters, the last being an ellipsis. */
export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `text` on one line, cut to `max` characters. */
export function oneLine(text: string, max: number): string {
  return shorten(text.replace(/\s+/g, ' ').trim(), max);
}

export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}

/** How an image is named in reports: its prompt (shortened), ratio, and variant when not the first take. */
export function describeImage(image: { prompt: string; ratio: string; variant?: number }): string {
  return `${JSON.stringify(shorten(image.prompt, 70))} (${image.ratio}${image.variant ? `, variant ${image.variant}` : ''})`;
}

/** US dollars as people read them: cents at least, tenths of a cent where they matter ($0.39, $0.039, $12.00). */
export function formatUsd(amount: number): string {
  const rounded = Math.round(amount * 10_000) / 10_000;
  const text = rounded.toFixed(4).replace(/0{1,2}$/, '');
  return `$${text}`;
}
