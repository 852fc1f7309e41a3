import { interrupt, verifyPageToken } from '@tokenaccess/next';
import { tokens } from '../../../lib/tokens';

// Opened by a one-time share link: /share/q3-report?lang=en&token=tka_…
export default async function SharePage(props: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  // Next passes a page's params percent-encoded, as they appear in the URL: join them as they are.
  const { id } = await props.params;
  const result = await verifyPageToken({ tokens, pathname: `/share/${id}`, searchParams: props.searchParams });
  if (!result.ok) {
    await interrupt(result.error); // 401 / 403 → unauthorized.tsx / forbidden.tsx
    throw new Error(result.error.message); // 400 / 503
  }
  return (
    <main>
      <h1>Shared report: {id}</h1>
      <p>This link opened once; it will not open again.</p>
    </main>
  );
}
