import { after } from 'next/server';
import { getCache, loadReport } from '../lib/cache.js';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const cache = getCache();
  let report;
  try {
    report = await cache.wrap('page-report', () => loadReport('page-report', 50), {
      ttl: 60_000,
      refreshThreshold: 10_000,
      waitUntil: after,
    });
  } catch {
    report = await loadReport('page-report', 50);
  }
  return (
    <main>
      <h1>native-cache-manager</h1>
      <p id="report">generated at {new Date(report.generatedAt).toISOString()} by pid {report.pid}</p>
    </main>
  );
}
