'use server';

import { updateTag } from 'next/cache';

// A server action: updateTag expires the tag at once (read-your-own-writes).
export async function refreshQuote(id) {
  updateTag(`quote-${id}`);
  return { at: Date.now() };
}
