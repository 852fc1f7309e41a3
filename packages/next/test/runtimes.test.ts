import { describe, expect, it } from 'vitest';
import hono from './examples/runtimes/hono';
import { served } from './examples/runtimes/standins';
import workers from './examples/runtimes/workers';
import './examples/runtimes/bun';
import './examples/runtimes/deno';

// The wiring snippets of docs/frameworks/fetch.md, run against stand-ins of each runtime's API.
describe('runtime wirings of the Fetch handler', () => {
  const entries: [string, (r: Request) => Promise<Response>][] = [
    ['hono', hono.fetch],
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
