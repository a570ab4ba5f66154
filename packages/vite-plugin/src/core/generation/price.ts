/** OpenRouter-style `/models` entries carry prices in USD as strings. */
interface PricedModel {
  id?: unknown;
  pricing?: { image?: unknown };
}

/**
 * The gateway's price for one image of `model` in US dollars, from `/models`
 * (`pricing.image`), or null when the gateway gives none or cannot be asked.
 * A price is informative only: it never fails anything.
 */
export async function imagePrice(gateway: { baseURL: string; apiKey: string; model: string; timeout: number }): Promise<number | null> {
  try {
    const response = await fetch(`${gateway.baseURL.replace(/\/+$/, '')}/models?output_modalities=all`, {
      headers: { Authorization: `Bearer ${gateway.apiKey}` },
      signal: AbortSignal.timeout(Math.min(gateway.timeout, 30_000)),
    });
    if (!response.ok) return null;
    const body = (await response.json()) as { data?: unknown };
    const model = Array.isArray(body.data) ? (body.data as PricedModel[]).find((m) => m?.id === gateway.model) : undefined;
    const price = Number(model?.pricing?.image);
    return typeof model?.pricing?.image === 'string' && Number.isFinite(price) && price >= 0 ? price : null;
  } catch {
    return null;
  }
}
