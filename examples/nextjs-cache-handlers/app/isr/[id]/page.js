import { getQuote } from '../../../lib/data.js';

// ISR: rendered on the first request for an id, stored by the cacheHandler, served from it
// for an hour, re-rendered after revalidatePath('/isr/<id>') or revalidateTag('quote-<id>').
export const revalidate = 3600;
export const dynamicParams = true;
export async function generateStaticParams() {
  return [];
}

export default async function IsrPage({ params }) {
  const { id } = await params;
  const quote = await getQuote(id);
  const renderedAt = Date.now();
  console.log(`[app] render /isr/${id}`);
  return (
    <main>
      <p id="page" data-rendered-at={renderedAt} data-pid={process.pid}>page {id} rendered at {renderedAt}</p>
      <p id="quote" data-generated-at={quote.generatedAt}>quote made at {quote.generatedAt}</p>
    </main>
  );
}
