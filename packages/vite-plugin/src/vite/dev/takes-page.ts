/** The takes page's document: a shell whose script (takes-app.ts, served beside it) fetches and draws the list. */
export function takesPage(prefix: string): string {
  const href = JSON.stringify(`${prefix}/app.js`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Generated images: takes</title>
<style>
  :root { color-scheme: light dark; font: 14px/1.45 system-ui, sans-serif; --line: #8884; --muted: #888; --accent: #6d28d9; }
  body { margin: 0 auto; padding: 16px 20px 40px; max-width: 1200px; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 24px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
  .note { color: var(--muted); margin: 0 0 8px; }
  .banner { padding: 8px 12px; border-radius: 6px; margin: 8px 0; background: #f59e0b22; border: 1px solid #f59e0b88; }
  .banner.error { background: #dc262622; border-color: #dc262688; }
  .banner.ok { background: #16a34a22; border-color: #16a34a88; }
  .usage { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin: 10px 0; }
  .prompt { font-weight: 600; }
  .meta { color: var(--muted); font-size: 12px; margin: 2px 0 8px; }
  .takes { display: flex; gap: 12px; overflow-x: auto; align-items: flex-start; padding-bottom: 4px; }
  figure { margin: 0; flex: 0 0 auto; width: 220px; border: 2px solid transparent; border-radius: 6px; padding: 4px; }
  figure[data-current] { border-color: var(--accent); }
  figure img, figure .box { display: block; width: 100%; height: auto; border-radius: 4px; background: #8882; }
  figure .box { aspect-ratio: 1; display: grid; place-items: center; text-align: center; padding: 8px; box-sizing: border-box; color: var(--muted); font-size: 12px; }
  figcaption { display: flex; flex-wrap: wrap; gap: 4px 8px; align-items: center; font-size: 12px; margin-top: 4px; }
  .kept { color: var(--accent); font-weight: 600; }
  button { font: inherit; font-size: 12px; padding: 2px 10px; border-radius: 4px; border: 1px solid var(--line); background: none; color: inherit; cursor: pointer; }
  button:disabled { cursor: not-allowed; opacity: .5; }
  button.another { margin-top: 8px; }
</style>
</head>
<body>
<h1>Generated images: takes</h1>
<p class="note" id="context">Loading…</p>
<div id="messages"></div>
<main id="list"></main>
<script type="module" src=${href}></script>
</body>
</html>
`;
}
