import { revalidatePath, revalidateTag } from 'next/cache';

// POST /api/revalidate?tag=t&mode=max|expire, or ?path=/isr/a
export async function POST(request) {
  const params = new URL(request.url).searchParams;
  const path = params.get('path');
  if (path) {
    revalidatePath(path);
  } else {
    const tag = params.get('tag');
    revalidateTag(tag, params.get('mode') === 'expire' ? { expire: 0 } : 'max');
  }
  return Response.json({ ok: true, at: Date.now() });
}
