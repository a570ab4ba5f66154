import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { parseReply, type ImageChatCompletion } from '../../packages/vite-plugin/src/core/generation/reply.ts';

async function image(width: number, height: number, format: 'png' | 'jpeg' | 'webp' = 'png', alpha = false): Promise<Buffer> {
  const channels = alpha ? 4 : 3;
  const raw = Buffer.alloc(width * height * channels);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) % 251;
  return sharp(raw, { raw: { width, height, channels } }).toFormat(format).toBuffer();
}

function reply(urls: string[], extra: Partial<NonNullable<ImageChatCompletion['choices']>[number]> = {}, content = 'Here you go'): ImageChatCompletion {
  return { choices: [{ finish_reason: 'stop', ...extra, message: { content, images: urls.map((url) => ({ type: 'image_url', image_url: { url } })) } }] };
}

const dataUrl = (mime: string, data: Buffer) => `data:${mime};base64,${data.toString('base64')}`;
const sixteenNine = { ratio: '16:9' as const, imageSize: null };

describe('reading a gateway reply', () => {
  it('accepts a PNG at the table size and keeps the model text', async () => {
    const png = await image(1344, 768);
    const result = await parseReply(reply([dataUrl('image/png', png)]), sixteenNine);
    expect(result).toMatchObject({ mime: 'image/png', extension: 'png', width: 1344, height: 768, hasAlpha: false, modelText: 'Here you go' });
    expect(result.data.equals(png)).toBe(true);
  });

  it('reads the real format from the bytes when a JPEG or WebP is labelled PNG', async () => {
    const jpeg = await image(1344, 768, 'jpeg');
    expect(await parseReply(reply([dataUrl('image/png', jpeg)]), sixteenNine)).toMatchObject({ mime: 'image/jpeg', extension: 'jpeg' });
    const webp = await image(1344, 768, 'webp');
    expect(await parseReply(reply([dataUrl('image/png', webp)]), sixteenNine)).toMatchObject({ mime: 'image/webp', extension: 'webp' });
  });

  it('keeps the first of duplicate images', async () => {
    const a = await image(1024, 1024);
    const result = await parseReply(reply([dataUrl('image/png', a), dataUrl('image/png', a)]), { ratio: '1:1', imageSize: null });
    expect(result.data.equals(a)).toBe(true);
  });

  it('treats a reply with no images as a failed attempt, quoting the native reason and the model text', async () => {
    const noImage: ImageChatCompletion = { choices: [{ finish_reason: 'stop', native_finish_reason: 'IMAGE_SAFETY', message: { content: 'I cannot create that image.' } }] };
    await expect(parseReply(noImage, sixteenNine)).rejects.toThrow('the reply has no image (finish reason: IMAGE_SAFETY); the model said: "I cannot create that image."');
  });

  it('rejects bad base64, a non-image payload and non-raster mime types', async () => {
    await expect(parseReply(reply(['data:image/png;base64,@@not base64@@']), sixteenNine)).rejects.toThrow('the image/png image is not valid base64');
    await expect(parseReply(reply([dataUrl('image/png', Buffer.from('hello, I am text, not a picture'))]), sixteenNine)).rejects.toThrow(/its bytes are not a PNG, JPEG or WebP/);
    await expect(parseReply(reply([dataUrl('image/svg+xml', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))]), sixteenNine)).rejects.toThrow(/image\/svg\+xml, which is not accepted/);
    await expect(parseReply(reply([dataUrl('text/html', Buffer.from('<html></html>'))]), sixteenNine)).rejects.toThrow(/text\/html, which is not accepted/);
  });

  it('rejects a truncated image that only looks like a PNG', async () => {
    const png = await image(1344, 768);
    await expect(parseReply(reply([dataUrl('image/png', png.subarray(0, 2000))]), sixteenNine)).rejects.toThrow(/does not decode/);
  });

  it('rejects an image more than 1% off the requested ratio, and accepts the gateway sizes', async () => {
    const square = await image(1024, 1024);
    await expect(parseReply(reply([dataUrl('image/png', square)]), sixteenNine)).rejects.toThrow('the image is 1024×1024, 42.9% off the 16:9 ratio (expected 1344×768)');
    // 4:3 is served as 1184×864, itself 2.8% off an exact 4:3: the table is the reference, not the arithmetic.
    expect((await parseReply(reply([dataUrl('image/png', await image(1184, 864))]), { ratio: '4:3', imageSize: null })).width).toBe(1184);
    expect((await parseReply(reply([dataUrl('image/png', await image(2688, 1536))]), { ratio: '16:9', imageSize: '2K' })).width).toBe(2688);
  });

  it('notices alpha so the fallback can be PNG', async () => {
    const rgba = await image(1024, 1024, 'png', true);
    expect((await parseReply(reply([dataUrl('image/png', rgba)]), { ratio: '1:1', imageSize: null })).hasAlpha).toBe(true);
  });
});
