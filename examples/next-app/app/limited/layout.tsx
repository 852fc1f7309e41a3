import type { ReactNode } from 'react';
import { requireToken } from '../../lib/auth';

// The layout and the page both ask for the token: one render verifies it once (React's cache()),
// so a token with maxUses spends one use per page view, not two.
export default async function LimitedLayout({ children }: { children: ReactNode }) {
  const token = await requireToken();
  return (
    <section>
      <p id="layout-uses">layout sees use {token.uses}</p>
      {children}
    </section>
  );
}
