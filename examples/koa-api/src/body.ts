import type { Context } from 'koa';

/** Reads a small JSON object body (the demo has no body-parser dependency). */
export async function readJson(ctx: Context, limit = 64 * 1024): Promise<Record<string, unknown>> {
  const length = Number(ctx.get('content-length') || 0);
  if (length === 0 && !ctx.get('transfer-encoding')) return {};
  if (!ctx.is('application/json')) ctx.throw(415, 'Send JSON with Content-Type: application/json.');
  if (length > limit) ctx.throw(413, 'The body is too large.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) ctx.throw(413, 'The body is too large.');
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    return ctx.throw(400, 'The body is not valid JSON.');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) ctx.throw(400, 'The body must be a JSON object.');
  return value as Record<string, unknown>;
}
