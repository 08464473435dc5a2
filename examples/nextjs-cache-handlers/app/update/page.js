import { refreshQuote } from './actions.js';

export const dynamic = 'force-dynamic';

export default function UpdatePage() {
  return (
    <form action={refreshQuote.bind(null, 'form')}>
      <button type="submit">refresh</button>
    </form>
  );
}
