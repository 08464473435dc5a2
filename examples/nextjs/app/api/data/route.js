import { after } from 'next/server';
import { cachedReport } from '../../../lib/cache.js';

export const dynamic = 'force-dynamic';

// GET /api/data?key=k&ttl=ms&threshold=ms&delay=ms&waitUntil=0|1
export async function GET(request) {
  const params = new URL(request.url).searchParams;
  const key = params.get('key') ?? 'report';
  const delay = Number(params.get('delay') ?? 50);
  const value = await cachedReport(key, {
    ttl: Number(params.get('ttl') ?? 60_000),
    refreshThreshold: Number(params.get('threshold') ?? 10_000),
    // Hand the background refresh to Next so it outlives the response. `after` is passed
    // as a function and called by wrap in this request's async context.
    waitUntil: params.get('waitUntil') === '0' ? undefined : after,
  }, delay);
  return Response.json({ value, servedAt: Date.now() });
}
