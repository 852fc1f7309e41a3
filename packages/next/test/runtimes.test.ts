import { describe, expect, it } from 'vitest';
import hono from './examples/runtimes/hono';
import { served } from './examples/runtimes/standins';
import workers from './examples/runtimes/workers';
import './examples/runtimes/bun';
import './examples/runtimes/deno';

// The wiring snippets of docs/frameworks/fetch.md: Hono's on real Hono, Bun's, Deno's and a
// Worker's against stand-ins of their APIs (those runtimes cannot be installed here).
describe('runtime wirings of the Fetch handler', () => {
  const entries: [string, (r: Request) => Promise<Response>][] = [
    ['hono', async (r) => hono.fetch(r)],
    ['bun', served[0]!.fetch],
    ['deno', served[1]!.fetch],
    ['workers', workers.fetch],
  ];
  it.each(entries)('%s passes requests to the handler and its RFC 6750 answers back', async (_, fetch) => {
    const none = await fetch(new Request('https://api.example/api/reports'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    const missing = await fetch(new Request('https://api.example/nowhere'));
    expect(missing.status).toBe(404);
  });
});
