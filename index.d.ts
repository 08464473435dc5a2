// Type definitions for native-cache-manager. Each part lives in types/ next to its topic.
export * from './types/errors';
export * from './types/memory-store';
export * from './types/create-cache';
export * from './types/redis';
