import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// NCM_HANDLERS=off builds the same app on Next's default (filesystem) cache, for comparison.
const handlers = process.env.NCM_HANDLERS !== 'off';

/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ['native-cache-manager'],
  // ISR pages, route handlers and fetch data: shared through the Redis at REDIS_URL.
  cacheHandler: handlers ? require.resolve('native-cache-manager/next/incremental-cache') : undefined,
  // 'use cache' entries: the same memory tier and Redis connection.
  cacheHandlers: handlers ? { default: require.resolve('native-cache-manager/next/use-cache') } : undefined,
  // No second in-process copy in front of the handler: its memory tier is that copy.
  cacheMaxMemorySize: handlers ? 0 : undefined,
  experimental: { useCache: true },
  distDir: process.env.NEXT_DIST_DIR || '.next',
  turbopack: { root: dirname(fileURLToPath(import.meta.url)) },
};

export default nextConfig;
