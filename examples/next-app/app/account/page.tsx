import { requireToken } from '../../lib/auth';

// A Server Component: the token comes from the request's Authorization header (await headers()).
export default async function AccountPage() {
  const token = await requireToken(['account:read']);
  return (
    <main>
      <h1>Account</h1>
      <p id="subject">Signed in as {token.subject}</p>
    </main>
  );
}
