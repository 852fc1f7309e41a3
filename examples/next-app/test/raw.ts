import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends one request whose target is written on the wire exactly as given: node:http does not
 * normalise `path`, unlike `fetch` and `new URL`, which resolve `/a/../b` and `%2e%2e`, turn `\`
 * into `/` and never send an absolute-form target (`GET http://host/… HTTP/1.1`). A `host`
 * header replaces the default one.
 */
export function raw(port: number, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method, headers: { connection: 'close', ...headers }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
