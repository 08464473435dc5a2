/** @type {import('next').NextConfig} */
const nextConfig = {
  // The cache is a native addon: Next must load it with Node's require at run time
  // instead of bundling it (bundling fails on the .node file).
  serverExternalPackages: ['native-cache-manager'],
};

export default nextConfig;
