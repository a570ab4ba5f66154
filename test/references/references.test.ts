// Reference images through real `vite build`s against the test gateway: each
// reference goes out as a decodable image part before the text, the key
// changes with a reference's bytes (one new request, the old entry kept), and
// a reference that is not an image is a build error naming the usage and file.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../gateway/server.ts';
import { makeProject, readManifest, removeProject, sha256, tag, TINY, viteBuild } from '../reliability/helpers.ts';

const KEY = 'agnic_tok_references_0123456789';
let gw: TestGateway;
const dirs: string[] = [];
beforeAll(async () => {
  gw = await startTestGateway({ apiKey: KEY });
});
afterAll(async () => {
  await gw.close();
  await Promise.all(dirs.map(removeProject));
});
beforeEach(() => gw.reset());

const options = (extra: object = {}) => ({ ...TINY, apiKey: KEY, baseURL: gw.url, ...extra });

const solid = (width: number, height: number, r: number) => sharp({ create: { width, height, channels: 3, background: { r, g: 90, b: 160 } } });

async function project(body: string): Promise<string> {
  const root = await makeProject('references', body);
  dirs.push(root);
  await fs.mkdir(path.join(root, 'brand'), { recursive: true });
  await fs.mkdir(path.join(root, 'pages'), { recursive: true });
  await solid(64, 64, 200).png().toFile(path.join(root, 'brand/look.png'));
  await solid(48, 32, 20).jpeg().toFile(path.join(root, 'brand/product.jpg'));
  // Larger than the 1536 px a reference is sent at.
  await solid(2400, 1200, 120).webp().toFile(path.join(root, 'mascot.webp'));
  return root;
}

describe('references', () => {
  it('sends the option’s references, then the prop’s, as decodable image parts before the text', async () => {
    const root = await project(tag('Our mascot waving on a beach', '16:9', 'references="./mascot.webp /brand/product.jpg"'));
    const built = await viteBuild(root, options({ references: ['brand/look.png'] }));
    expect(built.error).toBeUndefined();

    const [request] = gw.chatRequests();
    expect(gw.chatRequests()).toHaveLength(1);
    expect(request!.promptText).toBe('Our mascot waving on a beach');
    const parts = request!.imageParts;
    expect(parts.map((p) => [p.format, p.decodes, p.beforeText])).toEqual([['png', true, true], ['webp', true, true], ['jpeg', true, true]]);
    // Small files go as they are; the large one is downscaled to 1536 px on its longest side.
    expect(parts[0]!.sha256).toBe(sha256(await fs.readFile(path.join(root, 'brand/look.png'))));
    expect(parts[2]!.sha256).toBe(sha256(await fs.readFile(path.join(root, 'brand/product.jpg'))));
    expect([parts[1]!.width, parts[1]!.height]).toEqual([1536, 768]);

    // The entry records them with the digests of the files themselves.
    const manifest = await readManifest(path.join(root, 'generated-images'));
    const [entry] = Object.values(manifest.images) as Array<{ references?: Array<{ file: string; sha256: string }> }>;
    expect(entry!.references!.map((r) => r.file)).toEqual(['brand/look.png', 'mascot.webp', 'brand/product.jpg']);
    expect(entry!.references![1]!.sha256).toBe(sha256(await fs.readFile(path.join(root, 'mascot.webp'))));
  });

  it('a changed reference makes a new key and exactly one new request; the unchanged image is not asked for again', async () => {
    const root = await project([
      tag('A lighthouse in our brand colours', '1:1', 'references="/brand/look.png"'),
      tag('A plain harbour at noon', '1:1'),
    ].join('\n'));
    expect((await viteBuild(root, options())).error).toBeUndefined();
    expect(gw.chatRequests()).toHaveLength(2);
    const before = Object.keys((await readManifest(path.join(root, 'generated-images'))).images);

    gw.reset();
    expect((await viteBuild(root, options({ frozen: true }))).error).toBeUndefined();
    expect(gw.chatRequests()).toHaveLength(0);

    await solid(64, 64, 10).png().toFile(path.join(root, 'brand/look.png'));
    const rebuilt = await viteBuild(root, options());
    expect(rebuilt.error).toBeUndefined();
    const requests = gw.chatRequests();
    expect(requests.map((r) => r.promptText)).toEqual(['A lighthouse in our brand colours']);
    expect(requests[0]!.imageParts[0]!.sha256).toBe(sha256(await fs.readFile(path.join(root, 'brand/look.png'))));
    const after = Object.keys((await readManifest(path.join(root, 'generated-images'))).images);
    expect(after).toHaveLength(3);
    expect(after).toEqual(expect.arrayContaining(before));
  });

  it('a reference that is not an image, or not there, fails the build naming the usage and the file, before any request', async () => {
    const root = await project(tag('A logo on a flag', '1:1', 'references="brand/notes.png"'));
    await fs.writeFile(path.join(root, 'brand/notes.png'), 'not a picture');
    const built = await viteBuild(root, options());
    expect(built.error?.message).toMatch(/reference brand\/notes\.png of <GeneratedImage prompt="A logo on a flag"> at .*index\.html:\d+:\d+: not a PNG, JPEG or WebP image/);
    expect(gw.chatRequests()).toHaveLength(0);

    const missing = await viteBuild(root, options({ references: ['brand/gone.png'] }));
    expect(missing.error?.message).toMatch(/reference brand\/gone\.png of the references option: the file does not exist/);
    expect(gw.chatRequests()).toHaveLength(0);
  });

  it('takes references as an array of string literals in JSX', async () => {
    const root = await project('<div id="root"></div><script type="module" src="/pages/main.jsx"></script>');
    await fs.writeFile(
      path.join(root, 'pages/main.jsx'),
      [
        "import { GeneratedImage } from 'vite-plugin-generated-images/jsx';",
        'export const App = () => (',
        '  <GeneratedImage prompt="The product on a marble table" ratio="4:3" alt="Product" references={["../brand/product.jpg", "/brand/look.png"]} />',
        ');',
        'document.getElementById("root").textContent = String(App);',
      ].join('\n'),
    );
    const built = await viteBuild(root, options());
    expect(built.error).toBeUndefined();
    const [request] = gw.chatRequests();
    expect(request!.imageParts.map((p) => p.sha256)).toEqual([
      sha256(await fs.readFile(path.join(root, 'brand/product.jpg'))),
      sha256(await fs.readFile(path.join(root, 'brand/look.png'))),
    ]);
  });
});
