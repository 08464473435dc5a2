import { cacheLife, cacheTag } from 'next/cache';

// A 'use cache' function: its result is stored by the cacheHandlers.default handler under a
// key made of its arguments, tagged `quote-<id>`. It records when and where it ran.
export async function getQuote(id) {
  'use cache';
  cacheTag(`quote-${id}`);
  cacheLife({ stale: 60, revalidate: 3600, expire: 86400 });
  console.log(`[app] quote ${id}`);
  return { id, generatedAt: Date.now(), pid: process.pid };
}
