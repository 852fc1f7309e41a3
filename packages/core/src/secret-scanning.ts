// GitHub's secret-scanning partner program: GitHub finds tokens of our format in public code and
// POSTs them here, signed (ECDSA P-256, SHA-256) under a key it publishes. Web APIs only (fetch,
// crypto.subtle): this runs on every entry and every runtime.
import { parseDuration } from './duration';
import { TokenAccessError, invalid } from './errors';
import type { TokenAccess } from './access';
import { deadReason } from './store';
import { CHECKSUM_LENGTH, RANDOM_LENGTH, assertPrefix } from './token';
import type { Duration, TokenInfo } from './types';

/** One entry of GitHub's `public_keys` (https://api.github.com/meta/public_keys/secret_scanning). */
export interface GitHubPublicKey {
  key_identifier: string;
  /** PEM (`-----BEGIN PUBLIC KEY-----`), an ECDSA P-256 SPKI key. */
  key: string;
  is_current: boolean;
}

/** What `onLeak` receives for a live token of ours found in public. Never the raw token. */
export interface LeakEvent {
  id: string;
  subject?: string;
  name: string;
  kind: TokenInfo['kind'];
  /** The record's hint (`tka_Ab3x`). */
  hint: string;
  /** Where GitHub found it (may be empty). */
  url: string;
  /** GitHub's `source`: `content`, `commit`, `issue_comment`, … */
  source: string;
  /** GitHub's `type`: the name the token type was registered under. */
  type: string;
  /** What the handler did: `revoked` (`action: 'revoke'`) or `reported` (`action: 'report'`). */
  action: 'revoked' | 'reported';
}

/** Why a request was refused before anything was looked up (for logs; `onRefused`). */
export interface SecretScanningRefusal {
  status: number;
  reason: string;
  cause?: unknown;
}

/** Options of {@link secretScanningHandler}. */
export interface SecretScanningOptions {
  /** The token service whose tokens GitHub reports. */
  tokens: TokenAccess;
  /** Revoke each live reported token, or only report it through `onLeak`. @default 'revoke' */
  action?: 'revoke' | 'report';
  /**
   * GitHub's signing keys. @default {@link githubPublicKeys}() (GitHub's meta endpoint). Whatever
   * the source, its answer is cached for `keysTtl` and asked again (at most once per
   * `keysRefetchInterval`) when a request names a key id it lacks.
   */
  publicKeys?: () => GitHubPublicKey[] | Promise<GitHubPublicKey[]>;
  /**
   * Called once per distinct live token in a request, after it was revoked (or not). Awaited: if
   * it throws, the request answers 500 and GitHub delivers it again.
   */
  onLeak?: (event: LeakEvent) => void | Promise<void>;
  /** Called when a request is refused (bad signature, too large, keys unavailable, …). */
  onRefused?: (refusal: SecretScanningRefusal) => void;
  /** Largest body read, in bytes; larger is 413 before any verification. @default 1_048_576 (1 MB) */
  maxBodyBytes?: number;
  /** How long fetched keys are trusted before asking again. @default '1h' */
  keysTtl?: Duration;
  /** Fastest re-ask of `publicKeys()` for an unknown key id. @default '1m' */
  keysRefetchInterval?: Duration;
  /**
   * How each token is named in the response: `token_raw` echoes it as GitHub sent it,
   * `token_hash` sends its SHA-256 hex instead. @default 'token_raw'
   */
  feedback?: 'token_raw' | 'token_hash';
  /** Current time (liveness of records, key cache). @default Date.now */
  clock?: () => Date | number;
}

/** Options of {@link githubPublicKeys}. */
export interface GitHubPublicKeysOptions {
  /** @default 'https://api.github.com/meta/public_keys/secret_scanning' */
  url?: string;
  /** A GitHub token (no scopes needed): the meta endpoint rate-limits anonymous callers. */
  token?: string;
  /** @default globalThis.fetch */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** @default '5s' */
  timeout?: Duration;
}

const META_URL = 'https://api.github.com/meta/public_keys/secret_scanning';
const ID_HEADER = 'github-public-key-identifier';
const SIG_HEADER = 'github-public-key-signature';
const MAX_TOKEN_LENGTH = 512;
const CONCURRENCY = 8;

/**
 * The source of GitHub's secret-scanning keys: fetches GitHub's meta endpoint and returns its
 * `public_keys`. {@link secretScanningHandler} uses it by default and caches what it returns.
 *
 * @example
 * ```ts
 * const handler = secretScanningHandler({ tokens, publicKeys: githubPublicKeys({ token: process.env.GITHUB_TOKEN }) });
 * ```
 */
export function githubPublicKeys(options: GitHubPublicKeysOptions = {}): () => Promise<GitHubPublicKey[]> {
  const url = options.url ?? META_URL;
  const timeout = parseDuration(options.timeout ?? '5s', 'timeout');
  return async () => {
    const doFetch = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
    const headers: Record<string, string> = { accept: 'application/vnd.github+json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const signal = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(timeout) : undefined;
    const res = await doFetch(url, { headers, ...(signal ? { signal } : {}) });
    if (!res.ok) throw new TokenAccessError('unavailable', `GitHub's secret-scanning keys: ${url} answered ${res.status}`);
    const body = (await res.json()) as { public_keys?: unknown };
    if (!Array.isArray(body?.public_keys)) throw new TokenAccessError('unavailable', `GitHub's secret-scanning keys: ${url} has no public_keys array`);
    return body.public_keys as GitHubPublicKey[];
  };
}

/**
 * The regular expression to give GitHub for tokens of a prefix: the prefix, `_`, then 30 random
 * and 6 checksum base62 characters (the checksum, CRC32 of the rest, lets the endpoint drop
 * false matches without asking the store).
 *
 * @example
 * ```ts
 * secretScanningPattern('tka'); // '\\btka_[0-9A-Za-z]{36}\\b'
 * ```
 */
export function secretScanningPattern(prefix = 'tka'): string {
  assertPrefix(prefix);
  return `\\b${prefix}_[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}\\b`;
}

/**
 * Converts a DER ECDSA signature (`SEQUENCE { INTEGER r, INTEGER s }`, what GitHub, OpenSSL
 * and `crypto.sign` produce) into the raw `r || s` form Web Crypto verifies: each integer
 * without its sign byte, left-padded to `size` bytes. `null` for anything that is not strict DER.
 *
 * @example
 * ```ts
 * const raw = derToRawSignature(der); // 64 bytes for P-256, or null
 * ```
 */
export function derToRawSignature(der: Uint8Array, size = 32): Uint8Array | null {
  // short-form lengths only: two integers of at most size + 1 bytes never need more
  if (der.length < 8 || der.length > 2 + 2 * (3 + size) || der[0] !== 0x30 || der[1] !== der.length - 2) return null;
  const out = new Uint8Array(2 * size);
  let i = 2;
  for (let n = 0; n < 2; n++) {
    if (der[i] !== 0x02) return null;
    const len = der[i + 1]!;
    let start = i + 2;
    const end = start + len;
    if (len < 1 || len > size + 1 || end > der.length) return null;
    if (der[start]! & 0x80) return null; // negative
    if (der[start] === 0 && len > 1) {
      if (!(der[start + 1]! & 0x80)) return null; // a zero byte is only allowed before a high bit
      start++;
    }
    if (end - start > size) return null;
    out.set(der.subarray(start, end), n * size + size - (end - start));
    i = end;
  }
  return i === der.length ? out : null;
}

const base64Bytes = (b64: string): Uint8Array | null => {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return null;
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
};

const pemBytes = (pem: string): Uint8Array | null =>
  typeof pem === 'string' ? base64Bytes(pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '')) : null;

type Refused = { status: number; reason: string; cause?: unknown };
const refused = (status: number, reason: string, cause?: unknown): Refused => ({ status, reason, ...(cause === undefined ? {} : { cause }) });

/** Reads at most `max` bytes of the body; `null` when it is longer. */
async function readCapped(request: Request, max: number): Promise<Uint8Array | null> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** GitHub's keys, cached: refreshed after `ttl`, and for an unknown key id at most once per `minInterval`. */
function keyCache(source: () => GitHubPublicKey[] | Promise<GitHubPublicKey[]>, ttl: number, minInterval: number, now: () => number) {
  let keys: Map<string, Promise<CryptoKey | null>> | undefined;
  let fetchedAt = -Infinity;
  let inflight: Promise<void> | undefined;
  const refresh = () =>
    (inflight ??= (async () => {
      fetchedAt = now();
      try {
        const list = await source();
        if (!Array.isArray(list)) throw new TypeError('publicKeys() must return an array');
        const next = new Map<string, Promise<CryptoKey | null>>();
        for (const k of list) {
          if (!k || typeof k.key_identifier !== 'string') continue;
          const spki = pemBytes(k.key);
          next.set(
            k.key_identifier,
            spki
              ? globalThis.crypto.subtle.importKey('spki', spki as BufferSource, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']).catch(() => null)
              : Promise.resolve(null),
          );
        }
        keys = next;
      } finally {
        inflight = undefined;
      }
    })());
  /** The key named `id`, `null` when GitHub has no such key; throws when no keys can be had at all. */
  return async (id: string): Promise<CryptoKey | null> => {
    if (!keys || now() - fetchedAt >= ttl) {
      try {
        await refresh();
      } catch (e) {
        if (!keys) throw e; // nothing to verify with; stale keys are better than none
      }
    }
    if (!keys!.has(id) && now() - fetchedAt >= minInterval) await refresh().catch(() => {});
    return (await keys!.get(id)) ?? null;
  };
}

const hexOf = (buf: ArrayBuffer) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * A Fetch handler for GitHub's secret-scanning partner program. It verifies the
 * `Github-Public-Key-Signature` of the raw body (ECDSA P-256, SHA-256, under the key named by
 * `Github-Public-Key-Identifier`) before reading anything, then answers each reported token
 * with its label: `true_positive` for a live token of ours (found as `inspect` finds it: every
 * pepper key and legacy format; not expired or used up; a disabled token counts, since it could
 * be enabled again), `false_positive` otherwise. Live tokens are revoked (`action: 'revoke'`)
 * or only reported (`'report'`) through `onLeak`.
 *
 * Answers: 200 with `[{ token_raw, token_type, label }]`; 405 for a method other than POST;
 * 400 without the signature headers or for a body that is not a JSON array of
 * `{ token, type }`; 401 for a bad signature or unknown key; 413 for a body over
 * `maxBodyBytes`; 503 when the keys or the store are unavailable (GitHub retries); 500 when
 * `onLeak` threw.
 *
 * @example
 * ```ts
 * // Next.js: app/api/github/secret-scanning/route.ts
 * export const POST = secretScanningHandler({ tokens, action: 'revoke', onLeak: (e) => notifyOwner(e.subject, e.url) });
 * ```
 */
export function secretScanningHandler(options: SecretScanningOptions): (request: Request) => Promise<Response> {
  if (!options || typeof options !== 'object' || !options.tokens || typeof options.tokens.inspect !== 'function') throw invalid('secretScanningHandler needs { tokens }');
  const { tokens } = options;
  const action = options.action ?? 'revoke';
  if (action !== 'revoke' && action !== 'report') throw invalid(`action must be 'revoke' or 'report' (got ${JSON.stringify(action)})`);
  const feedback = options.feedback ?? 'token_raw';
  if (feedback !== 'token_raw' && feedback !== 'token_hash') throw invalid("feedback must be 'token_raw' or 'token_hash'");
  const maxBody = options.maxBodyBytes ?? 1_048_576;
  if (!Number.isSafeInteger(maxBody) || maxBody < 1) throw invalid('maxBodyBytes must be a positive integer');
  const now = () => {
    const t = options.clock ? options.clock() : Date.now();
    return typeof t === 'number' ? t : t.getTime();
  };
  const keyFor = keyCache(
    options.publicKeys ?? githubPublicKeys(),
    parseDuration(options.keysTtl ?? '1h', 'keysTtl'),
    parseDuration(options.keysRefetchInterval ?? '1m', 'keysRefetchInterval'),
    now,
  );

  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers } });
  const refuse = (r: Refused, headers?: Record<string, string>) => {
    options.onRefused?.(r);
    return answer(r.status, { error: r.reason }, headers);
  };

  /** The verified body, or why not. Nothing is parsed before the signature holds. */
  async function verified(request: Request): Promise<Uint8Array | Refused> {
    const id = request.headers.get(ID_HEADER);
    const sig = request.headers.get(SIG_HEADER);
    if (!id || !sig) return refused(400, 'missing Github-Public-Key-Identifier or Github-Public-Key-Signature');
    if (id.length > 256 || sig.length > 256) return refused(400, 'oversized signature headers');
    const der = base64Bytes(sig.trim());
    const raw = der && derToRawSignature(der);
    if (!raw) return refused(401, 'the signature is not a base64 DER ECDSA signature');
    const length = Number(request.headers.get('content-length') ?? '0');
    if (length > maxBody) return refused(413, `body over ${maxBody} bytes`);
    const body = await readCapped(request, maxBody);
    if (!body) return refused(413, `body over ${maxBody} bytes`);
    let key: CryptoKey | null;
    try {
      key = await keyFor(id.trim());
    } catch (e) {
      return refused(503, "GitHub's public keys are unavailable", e);
    }
    if (!key) return refused(401, 'unknown key identifier');
    const ok = await globalThis.crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, raw as BufferSource, body as BufferSource);
    return ok ? body : refused(401, 'the signature does not match the body');
  }

  type Report = { token: string; type: string; url: string; source: string };
  function parse(body: Uint8Array): Report[] | null {
    let data: unknown;
    try {
      data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
    } catch {
      return null;
    }
    if (!Array.isArray(data)) return null;
    const out: Report[] = [];
    for (const item of data) {
      if (!item || typeof item !== 'object' || typeof item.token !== 'string' || typeof item.type !== 'string') return null;
      out.push({ token: item.token, type: item.type, url: typeof item.url === 'string' ? item.url : '', source: typeof item.source === 'string' ? item.source : 'unknown' });
    }
    return out;
  }

  /** Whether `raw` is a live token of ours; revokes or reports it. Store failures throw. */
  async function judge(report: Report): Promise<boolean> {
    if (report.token.length === 0 || report.token.length > MAX_TOKEN_LENGTH) return false;
    let record: TokenInfo | null;
    try {
      record = await tokens.inspect(report.token);
    } catch (e) {
      if (e instanceof TokenAccessError && e.code === 'invalid_argument') return false; // not of any format we verify
      throw e;
    }
    if (!record || deadReason(record, now()) !== null) return false;
    if (action === 'revoke') await tokens.revokeById(record.id);
    const event: LeakEvent = { id: record.id, name: record.name, kind: record.kind, hint: record.hint, url: report.url, source: report.source, type: report.type, action: action === 'revoke' ? 'revoked' : 'reported' };
    if (record.subject !== undefined) event.subject = record.subject;
    if (options.onLeak) {
      try {
        await options.onLeak(event);
      } catch (e) {
        throw new LeakHookError(e);
      }
    }
    return true;
  }

  return async function secretScanning(request: Request): Promise<Response> {
    if (request.method !== 'POST') return refuse(refused(405, 'POST only'), { allow: 'POST' });
    const body = await verified(request);
    if (!(body instanceof Uint8Array)) return refuse(body);
    const reports = parse(body);
    if (!reports) return refuse(refused(400, 'the body is not a JSON array of { token, type, url, source }'));

    // one lookup per distinct token (the first report of it): revoked once, labelled the same
    const seen = new Set<string>();
    const distinct = reports.filter((r) => !seen.has(r.token) && Boolean(seen.add(r.token)));
    const settled = new Map<string, boolean>();
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      while (next < distinct.length && !failure) {
        const r = distinct[next++]!;
        try {
          settled.set(r.token, await judge(r));
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, distinct.length) }, worker));
    if (failure) {
      const e = failure.error;
      if (e instanceof LeakHookError) return refuse(refused(500, 'onLeak failed', e.cause));
      return refuse(refused(503, 'the token store is unavailable', e), { 'retry-after': '5' });
    }
    const out = await Promise.all(
      reports.map(async (r) => {
        const label = settled.get(r.token) ? 'true_positive' : 'false_positive';
        if (feedback === 'token_raw') return { token_raw: r.token, token_type: r.type, label };
        const hash = hexOf(await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(r.token)));
        return { token_hash: hash, token_type: r.type, label };
      }),
    );
    return answer(200, out);
  };
}

class LeakHookError extends Error {
  constructor(cause: unknown) {
    super('[tokenaccess] onLeak failed', { cause });
  }
}
