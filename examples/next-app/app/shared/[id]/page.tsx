import { interrupt } from '@tokenaccess/next';
import { verifyPageToken } from '../../../lib/auth';

// Opened through a share link that proxy.ts exchanged for a session: this page reads the session
// cookie (checked against this page's path) and renders for the link's guest.
export default async function SharedPage(props: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { id } = await props.params;
  const result = await verifyPageToken({ pathname: `/shared/${id}`, searchParams: props.searchParams, cookie: 'share_session' });
  if (!result.ok) {
    await interrupt(result.error);
    throw new Error(result.error.message);
  }
  return (
    <main>
      <h1>Shared with you: {id}</h1>
      <p>
        A {result.token.kind} holding {result.token.scopes.join(' ')}
      </p>
    </main>
  );
}
