import { getQuote } from '../../../lib/data.js';

// GET /api/quote?id=x → the 'use cache' value for x (the route itself is dynamic).
export async function GET(request) {
  const id = new URL(request.url).searchParams.get('id') ?? 'default';
  return Response.json({ ...(await getQuote(id)), servedBy: process.pid });
}
