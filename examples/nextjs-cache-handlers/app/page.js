import { getQuote } from '../lib/data.js';

// Prerendered by next build: its 'use cache' call goes through the handler during the build.
export default async function Home() {
  const quote = await getQuote('home');
  return (
    <main>
      <h1>native-cache-manager: Next.js cache handlers</h1>
      <p id="quote" data-generated-at={quote.generatedAt}>quote made at {quote.generatedAt}</p>
    </main>
  );
}
