import { requireToken } from '../../lib/auth';

export default async function LimitedPage() {
  const token = await requireToken(['account:read']);
  return (
    <p id="page-uses">
      page sees use {token.uses} of {token.maxUses}
    </p>
  );
}
