// The package's own name, as an app imports it (self-reference through package.json "exports").
export * from 'native-cache-manager/next';
export { RedisStore } from 'native-cache-manager';
