import { after } from 'next/server';
import { cachedReport } from '../lib/cache.js';

export const dynamic = 'force-dynamic';

// /?key=k&ttl=ms&threshold=ms&delay=ms (all optional)
export default async function Page({ searchParams }) {
  const params = await searchParams;
  const key = params.key ?? 'page-report';
  const report = await cachedReport(key, {
    ttl: Number(params.ttl ?? 60_000),
    refreshThreshold: Number(params.threshold ?? 10_000),
    // Same as in the route handler: the refresh outlives the rendered response.
    waitUntil: after,
  }, Number(params.delay ?? 50));
  return (
    <main>
      <h1>native-cache-manager</h1>
      <p id="report" data-generated-at={report.generatedAt}>
        {key} generated at {new Date(report.generatedAt).toISOString()} by pid {report.pid}
      </p>
    </main>
  );
}
