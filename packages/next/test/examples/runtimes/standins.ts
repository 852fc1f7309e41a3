/**
 * Few-line stand-ins for the parts of Bun and Deno that the docs' wiring snippets call. These
 * runtimes cannot be installed here; what is tested is that the wiring hands the runtime's
 * request to the real handler and its response back, not Bun or Deno themselves. (Hono is a
 * package: its snippet and middleware run on the real thing.)
 */
type Handler = (request: Request) => Promise<Response>;

export const served: { fetch: Handler }[] = [];
export const BunStandin = { serve: (o: { port: number; fetch: Handler }) => void served.push({ fetch: o.fetch }) };
export const DenoStandin = { serve: (_o: { port: number }, fetch: Handler) => void served.push({ fetch }) };
