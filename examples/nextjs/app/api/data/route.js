import { after } from 'next/server';
import { getCache, loadReport } from '../../../lib/cache.js';

export const dynamic = 'force-dynamic';

// GET /api/data?key=k&ttl=ms&threshold=ms&delay=ms&waitUntil=0|1
export async function GET(request) {
  const params = new URL(request.url).searchParams;
  const key = params.get('key') ?? 'report';
  const ttl = Number(params.get('ttl') ?? 60_000);
  const refreshThreshold = Number(params.get('threshold') ?? 10_000);
  const delay = Number(params.get('delay') ?? 50);
  const useAfter = params.get('waitUntil') !== '0';

  const cache = getCache();
  let value;
  try {
    value = await cache.wrap(key, () => loadReport(key, delay), {
      ttl,
      refreshThreshold,
      // Hand the background refresh to Next so it outlives the response.
      waitUntil: useAfter ? after : undefined,
    });
  } catch {
    // A cache failure never fails the request: compute the value directly.
    value = await loadReport(key, delay);
  }
  return Response.json({ value, servedAt: Date.now() });
}
