// A real node:http server for a Fetch handler: IncomingMessage → Request, Response → the socket.
import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

export type FetchHandler = (request: Request) => Promise<Response>;

/** The Request a Fetch handler sees for a node request (origin from the Host header, as frameworks do). */
export function toRequest(req: IncomingMessage): Request | null {
  const host = req.headers.host ?? '';
  const target = req.url ?? '/';
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(host) || !target.startsWith('/')) return null;
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const method = req.method ?? 'GET';
  const body = method === 'GET' || method === 'HEAD' ? undefined : (Readable.toWeb(req) as ReadableStream<Uint8Array>);
  return new Request(`http://${host}${target}`, { method, headers, body, duplex: 'half' } as RequestInit);
}

/** Writes a Fetch Response to a node response (every Set-Cookie kept as its own header). */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (!response.body) return void res.end();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
  res.end();
}

export interface Served {
  origin: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Serves `handler` on 127.0.0.1 (a random port); `other` answers what the handler does not own. */
export async function serve(handler: FetchHandler): Promise<Served> {
  const server = createServer((req, res) => {
    const request = toRequest(req);
    if (!request) {
      res.statusCode = 400;
      return void res.end('bad request');
    }
    handler(request).then(
      (response) => writeResponse(res, response),
      (e: unknown) => {
        res.statusCode = 500;
        res.end(String(e));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request exactly as given (node:http, not fetch: no header or path is normalised or added). */
export function raw(port: number, options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: { host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
