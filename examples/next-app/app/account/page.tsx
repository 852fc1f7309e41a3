import { requireToken } from '@tokenaccess/next';
import { tokens } from '../../lib/tokens';

// A Server Component: the token comes from the request's Authorization header (await headers()).
export default async function AccountPage() {
  const token = await requireToken({ tokens }, ['account:read']);
  return (
    <main>
      <h1>Account</h1>
      <p id="subject">Signed in as {token.subject}</p>
    </main>
  );
}
