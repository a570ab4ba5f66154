import { createHash } from 'node:crypto';
import sharp from 'sharp';

/**
 * A deterministic, photo-like picture: a landscape with a sky gradient and
 * clouds, a fractal mountain ridge, textured ground, soft-edged objects and
 * light sensor grain. Its detail falls off with frequency roughly as in real
 * photographs (1/f), so encoders spend the time and bytes they spend on real
 * AI images — flat or pure-noise pictures make AVIF look far cheaper or far
 * dearer than it is.
 */
export async function renderPhoto(seed: string, width: number, height: number): Promise<Buffer> {
  const raw = await renderPhotoRaw(seed, width, height);
  // What Gemini-family gateways return: an 8-bit RGB PNG of about 1.5 MB at 1344×768.
  return sharp(raw, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
}

export async function renderPhotoRaw(seed: string, width: number, height: number): Promise<Buffer> {
  const hash = createHash('sha256').update(seed).digest();
  let state = hash.readUInt32LE(0) || 0x9e3779b9;
  const random = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  const octaves = await fractal(random, width, height);
  const pick = (base: number[], spread: number) => base.map((c) => Math.max(0, Math.min(255, c + (random() - 0.5) * spread)));
  const skyTop = pick([60, 110, 190], 80);
  const skyBottom = pick([200, 210, 230], 60);
  const ground = pick([70, 100, 50], 90);
  const rock = pick([110, 100, 95], 60);

  // A ridge line from 1-D fractal noise: 0.35..0.65 of the height.
  const ridge = new Float32Array(width);
  const points = Array.from({ length: 9 }, () => random());
  for (let x = 0; x < width; x++) {
    let y = 0;
    let amplitude = 0.5;
    for (let o = 0, f = 2; o < 6; o++, f *= 2, amplitude /= 2) {
      const t = (x / width) * f;
      const i = Math.floor(t);
      const a = points[(i * 7 + o) % 9]!;
      const b = points[((i + 1) * 7 + o) % 9]!;
      const s = (t - i) * (t - i) * (3 - 2 * (t - i));
      y += (a + (b - a) * s - 0.5) * amplitude;
    }
    ridge[x] = height * (0.5 + y * 0.3);
  }

  const circles = Array.from({ length: 3 + Math.floor(random() * 4) }, () => ({
    x: random() * width,
    y: height * (0.55 + random() * 0.4),
    r: Math.min(width, height) * (0.03 + random() * 0.1),
    color: pick([150, 90, 60], 160),
  }));
  const sun = { x: random() * width, y: height * (0.08 + random() * 0.2), r: Math.min(width, height) * 0.06 };

  const out = new Uint8ClampedArray(width * height * 3);
  const { coarse, fine } = octaves;
  for (let y = 0; y < height; y++) {
    const v = y / height;
    const sr = skyTop[0]! + (skyBottom[0]! - skyTop[0]!) * v;
    const sg = skyTop[1]! + (skyBottom[1]! - skyTop[1]!) * v;
    const sb = skyTop[2]! + (skyBottom[2]! - skyTop[2]!) * v;
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const c = coarse[i]!;
      const f = fine[i]!;
      const edge = y - ridge[x]!;
      // Anti-aliased ridge: one pixel of blend, as a camera's optics give.
      const land = edge <= -0.5 ? 0 : edge >= 0.5 ? 1 : edge + 0.5;
      const cloud = c > 0.1 ? (c - 0.1) * 140 + f * 20 : 0;
      let r = sr + cloud;
      let g = sg + cloud;
      let b = sb + cloud * 0.9;
      if (land > 0) {
        const depth = edge > 0 ? Math.min(1, edge / (height * 0.25)) : 0;
        const mix = Math.max(0, Math.min(1, 0.5 + c * 0.9));
        // Nearer ground shows more texture, as in a photograph.
        const shade = 0.8 + f * (0.4 + depth * 0.5) + depth * 0.1;
        r += ((rock[0]! + (ground[0]! - rock[0]!) * mix) * shade - r) * land;
        g += ((rock[1]! + (ground[1]! - rock[1]!) * mix) * shade - g) * land;
        b += ((rock[2]! + (ground[2]! - rock[2]!) * mix) * shade - b) * land;
      }
      const p = i * 3;
      out[p] = r;
      out[p + 1] = g;
      out[p + 2] = b;
    }
  }
  paintSun(out, width, height, sun, ridge);
  for (const circle of circles) paintBall(out, width, height, circle, fine);
  for (let p = 0; p < out.length; p += 3) {
    const grain = (random() - 0.5) * 5;
    out[p] = out[p]! + grain;
    out[p + 1] = out[p + 1]! + grain;
    out[p + 2] = out[p + 2]! + grain;
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Two 1/f noise fields in -0.5..0.5: `coarse` (clouds, large forms) and `fine`
 * (texture). Each octave is a small random grid that libvips upsamples with a
 * cubic kernel; the coarse octaves are summed at an eighth of the size and
 * upsampled once, so the cost is a few native resizes rather than per-pixel JS.
 */
async function fractal(random: () => number, width: number, height: number): Promise<{ coarse: Float32Array; fine: Float32Array }> {
  const lowWidth = Math.ceil(width / 8);
  const lowHeight = Math.ceil(height / 8);
  const low = new Float32Array(lowWidth * lowHeight);
  let amplitude = 1;
  for (let cell = 64; cell >= 4; cell /= 2, amplitude *= 0.6) await addOctave(low, random, lowWidth, lowHeight, cell, amplitude);
  normalize(low);
  const coarse = new Float32Array(width * height);
  const up = await upsample(Uint8Array.from(low, (v) => (v + 0.5) * 255), lowWidth, lowHeight, 8, width, height);
  for (let i = 0; i < coarse.length; i++) coarse[i] = up[i]! / 255 - 0.5;
  const fine = new Float32Array(width * height);
  for (let cell = 16; cell >= 2; cell /= 2, amplitude *= 0.85) await addOctave(fine, random, width, height, cell, amplitude);
  normalize(fine);
  return { coarse, fine };
}

async function addOctave(field: Float32Array, random: () => number, width: number, height: number, cell: number, amplitude: number): Promise<void> {
  const gridWidth = Math.ceil(width / cell) + 2;
  const gridHeight = Math.ceil(height / cell) + 2;
  const grid = new Uint8Array(gridWidth * gridHeight);
  for (let i = 0; i < grid.length; i++) grid[i] = Math.floor(random() * 256);
  const up = await upsample(grid, gridWidth, gridHeight, cell, width, height, cell);
  const scale = amplitude / 255;
  for (let i = 0; i < field.length; i++) field[i]! += (up[i]! - 127.5) * scale;
}

/** One channel upsampled by `factor` with a cubic kernel, then cropped to width×height at `offset`. */
async function upsample(values: Uint8Array, gridWidth: number, gridHeight: number, factor: number, width: number, height: number, offset = 0): Promise<Buffer> {
  return sharp(values, { raw: { width: gridWidth, height: gridHeight, channels: 1 } })
    .resize(gridWidth * factor, gridHeight * factor, { kernel: 'cubic' })
    .extract({ left: offset, top: offset, width, height })
    // sharp writes a one-channel image out as three sRGB channels.
    .extractChannel(0)
    .raw()
    .toBuffer();
}

function paintSun(out: Uint8ClampedArray, width: number, height: number, sun: { x: number; y: number; r: number }, ridge: Float32Array): void {
  const reach = sun.r + 40;
  for (let y = Math.max(0, Math.floor(sun.y - reach)); y < Math.min(height, sun.y + reach); y++) {
    for (let x = Math.max(0, Math.floor(sun.x - reach)); x < Math.min(width, sun.x + reach); x++) {
      if (y >= ridge[x]!) continue;
      const d = Math.sqrt((x - sun.x) ** 2 + (y - sun.y) ** 2) - sun.r;
      const glow = d < 0 ? 1 : d < 40 ? (1 - d / 40) ** 2 : 0;
      if (glow === 0) continue;
      const p = (y * width + x) * 3;
      out[p] = out[p]! + (255 - out[p]!) * glow;
      out[p + 1] = out[p + 1]! + (240 - out[p + 1]!) * glow;
      out[p + 2] = out[p + 2]! + (200 - out[p + 2]!) * glow * 0.8;
    }
  }
}

/** A shaded, textured sphere with an anti-aliased edge. */
function paintBall(out: Uint8ClampedArray, width: number, height: number, ball: { x: number; y: number; r: number; color: number[] }, fine: Float32Array): void {
  for (let y = Math.max(0, Math.floor(ball.y - ball.r - 1)); y < Math.min(height, ball.y + ball.r + 1); y++) {
    for (let x = Math.max(0, Math.floor(ball.x - ball.r - 1)); x < Math.min(width, ball.x + ball.r + 1); x++) {
      const d = Math.sqrt((x - ball.x) ** 2 + (y - ball.y) ** 2) - ball.r;
      if (d >= 1) continue;
      const a = Math.min(1, 1 - d) * 0.9;
      const i = y * width + x;
      const light = 0.7 + 0.3 * ((ball.y - y) / ball.r + 1) + fine[i]! * 0.4;
      const p = i * 3;
      out[p] = out[p]! + (ball.color[0]! * light - out[p]!) * a;
      out[p + 1] = out[p + 1]! + (ball.color[1]! * light - out[p + 1]!) * a;
      out[p + 2] = out[p + 2]! + (ball.color[2]! * light - out[p + 2]!) * a;
    }
  }
}

function normalize(field: Float32Array): void {
  let min = Infinity;
  let max = -Infinity;
  for (const v of field) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min || 1;
  for (let i = 0; i < field.length; i++) field[i] = (field[i]! - min) / range - 0.5;
}
