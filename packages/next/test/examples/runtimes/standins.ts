/**
 * Few-line stand-ins for the parts of Hono, Bun and Deno that the docs' wiring snippets call.
 * The runtimes are not installed here; what is tested is that the wiring hands the runtime's
 * request to the real handler and its response back. Not Hono, Bun or Deno themselves.
 */
type Handler = (request: Request) => Promise<Response>;

export class Hono {
  private route: ((c: { req: { raw: Request } }) => Promise<Response>) | undefined;
  all(_path: string, fn: (c: { req: { raw: Request } }) => Promise<Response>) {
    this.route = fn;
  }
  fetch = (request: Request) => this.route!({ req: { raw: request } });
}

export const served: { fetch: Handler }[] = [];
export const BunStandin = { serve: (o: { port: number; fetch: Handler }) => void served.push({ fetch: o.fetch }) };
export const DenoStandin = { serve: (_o: { port: number }, fetch: Handler) => void served.push({ fetch }) };
