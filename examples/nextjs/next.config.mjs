import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @type {import('next').NextConfig} */
const nextConfig = {
  // The cache is a native addon: Next must load it with Node's require at run time
  // instead of bundling it (bundling fails on the .node file).
  serverExternalPackages: ['native-cache-manager'],
  // This app has its own node_modules (and lock file) inside the package's repository.
  turbopack: { root: dirname(fileURLToPath(import.meta.url)) },
};

export default nextConfig;
