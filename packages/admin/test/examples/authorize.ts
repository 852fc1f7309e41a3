// HTTP Basic sign-in for the examples and tests. A real app reads its own session here.
import type { AuthorizeResult } from '@tokenaccess/admin';

const OPERATORS: Record<string, { password: string; admin: boolean }> = {
  ops: { password: 'correct horse battery staple', admin: true },
  guest: { password: 'guest', admin: false },
};

export function authorize(request: Request): AuthorizeResult {
  const m = /^Basic ([A-Za-z0-9+/]+=*)$/.exec(request.headers.get('authorization') ?? '');
  const [user = '', password] = m ? atob(m[1]!).split(/:(.*)/s) : [];
  const operator = OPERATORS[user];
  if (!operator || operator.password !== password) {
    return new Response('Sign in to manage tokens.', {
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="tokens admin", charset="UTF-8"', 'content-type': 'text/plain; charset=utf-8' },
    });
  }
  return operator.admin ? { id: user } : false;
}

/** The Authorization header of an operator, for raw requests. */
export const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`;
export const OPS = { username: 'ops', password: 'correct horse battery staple' };
