import { parseDuration } from './duration';
import { TokenAccessError, invalid } from './errors';
import { type CryptoProvider, createHasher } from './hash';
import { type RateState, type RequestLike, parseBearer, rateLimitHeaders, readHeader, verifyError } from './http';
import type { AuthenticateOptions, RateLimitOption, CheckOptions, DeriveOptions, IssueOptions, IssueUrlOptions, ListOptions, RejectionEvent, RotateOptions, TokenAccessOptions, UpdateOptions, VerifyUrlOptions } from './options';
import { expandScope, validateScopes } from './scopes';
import type { ConsumePolicy, ConsumeResult, ListPage, ListQuery, SweepOptions } from './store';
import { assertPrefix, generateToken, isWellFormed, newId, tokenHint } from './token';
import type { Duration, JsonValue, TokenInfo, TokenKind, VerifyErrorCode, VerifyResult } from './types';
import { appendTokenParam, canonicalize, canonicalizeUrl } from './url';
import { withTimeout } from './timeout';
import { redactTokens, withoutValues } from './redact';
import { validateMaxUses, validateMetadata, validateMethods, validateRateLimit, validateRefill, validateText } from './validate';
import { lifecycle } from './lifecycle';
import { type ExchangeOptions, type ExchangeResult, readCookie, sessions } from './session';
import { bindingMatches, deadAt, evaluateConsume, livenessOf, rateState, satisfiesScopes } from './store';
import { compileLegacy } from './legacy';
import { VerifyCache, copyRecord } from './cache';
import { invalidationKey } from './invalidation';

/** The object {@link createTokenAccess} returns. */
export interface TokenAccess {
  /** Issues an API token. The raw `token` is returned here and never again. */
  issue(options: IssueOptions): Promise<{ token: string; info: TokenInfo }>;
  /** Issues a URL token bound to one URL; `url` is the share link (the URL plus `?token=…`). */
  issueUrl(options: IssueUrlOptions): Promise<{ token: string; url: string; info: TokenInfo }>;
  /** Verifies a raw API token (one store round trip). Never throws for a bad token. */
  verify(raw: string, options?: CheckOptions): Promise<VerifyResult>;
  /** Verifies the URL token inside `url` against that URL and `method`. */
  verifyUrl(url: string, options?: VerifyUrlOptions): Promise<VerifyResult>;
  /** Verifies a request: Bearer header (or `header` / `getToken`), else a URL token in its query. */
  authenticate(request: RequestLike, options?: AuthenticateOptions): Promise<VerifyResult>;
  get(id: string): Promise<TokenInfo | null>;
  /**
   * Finds the record of a raw token without verifying it: no checks, no use spent, no hooks
   * (for admin tools: "whose token is this?"). Tries every pepper key. Throws
   * `invalid_argument` for a malformed token.
   */
  inspect(raw: string): Promise<TokenInfo | null>;
  list(options?: ListOptions): Promise<ListPage>;
  /** Revokes by raw token; returns the revoked record or null. */
  revoke(raw: string): Promise<TokenInfo | null>;
  revokeById(id: string): Promise<TokenInfo | null>;
  /** Revokes by stored hash (`TokenInfo.hash`, Shield's "secret"). */
  revokeByHash(hash: string): Promise<TokenInfo | null>;
  /** Revokes every token of a subject; returns how many. */
  revokeAll(subject: string): Promise<number>;
  /** Deletes expired and used-up tokens; returns how many. */
  sweep(options?: SweepOptions): Promise<number>;
  /**
   * Changes a token's mutable fields atomically (a concurrent verify sees it before or after).
   * Throws `not_found` for an unknown id, `invalid_argument` for a bad patch.
   */
  update(id: string, patch: UpdateOptions): Promise<TokenInfo>;
  /** Disables a token (and its derived tokens): refused as `disabled`, spends nothing. */
  disable(id: string): Promise<TokenInfo>;
  /** Enables a disabled token (and the derived tokens its disable disabled). */
  enable(id: string): Promise<TokenInfo>;
  /**
   * Issues a new token with the old one's subject, name, scopes, metadata and limits; the old
   * one works until `now + grace`, then is `expired`. `url` is the new share link for a URL token.
   */
  rotate(id: string, options?: RotateOptions): Promise<{ token: string; info: TokenInfo; previous: TokenInfo; url?: string }>;
  /**
   * Opens a share link in a browser: spends its use, creates a short `session` token and answers
   * 303 to the same URL without the token, setting the session cookie (see {@link ExchangeOptions}).
   * With `confirm`, a GET answers a page whose POST spends the use. Always returns a `response`.
   */
  exchange(request: Request, options?: ExchangeOptions): Promise<ExchangeResult>;
  /** Issues a child of an access token: its scopes covered by the parent's, its expiry within the parent's. */
  derive(parentId: string, options?: DeriveOptions): Promise<{ token: string; info: TokenInfo }>;
  /** The configured token prefix (for adapters that pre-check the format). */
  readonly prefix: string;
  /** The configured URL token parameter (for adapters). */
  readonly urlParam: string;
  readonly realm: string;
}


type Reject = { code: VerifyErrorCode; reason: string; token?: TokenInfo; cause?: unknown; scopes?: string[]; rate?: RateState };

/** The default deadline of a store call before `unavailable` (fail closed within 2 s). */
const DEFAULT_TIMEOUT = 2000;

/** @internal `createTokenAccess` with an explicit crypto provider; the entries bind it. */
export function createTokenAccessWith(provider: CryptoProvider, options: TokenAccessOptions): TokenAccess {
  if (!options || typeof options !== 'object' || !options.store) throw invalid('createTokenAccess needs a `store` (e.g. memoryStore())');
  const store = options.store;
  const prefix = options.prefix ?? 'tka';
  assertPrefix(prefix);
  const hasher = createHasher(provider, options.pepper);
  // undefined without legacy formats: a malformed token then costs what it always did
  const legacy = compileLegacy(provider, options.legacy);
  const urlParam = options.urlParam ?? 'token';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(urlParam)) throw invalid(`urlParam must be 1-64 characters of [A-Za-z0-9_.-] (got ${JSON.stringify(urlParam)})`);
  const ignored = options.ignoreParams ?? [];
  if (!Array.isArray(ignored) || ignored.some((p) => typeof p !== 'string' || p === '')) throw invalid('ignoreParams must be an array of parameter names');
  if (ignored.includes(urlParam)) throw invalid(`ignoreParams must not name the token parameter ${JSON.stringify(urlParam)}: the token would be ignored`);
  const exclude = new Set(ignored);
  const realm = options.realm ?? 'api';
  // a realm is sent in every WWW-Authenticate header: a CR, LF or quote there broke every refusal
  if (typeof realm !== 'string' || !/^[\x20\x21\x23-\x5B\x5D-\x7E]{1,200}$/.test(realm)) {
    throw invalid('realm must be 1-200 printable ASCII characters without \'"\' or \'\\\'');
  }
  const resolution = options.lastUsedResolution === 0 ? 0 : parseDuration(options.lastUsedResolution ?? 60_000, 'lastUsedResolution');
  const timeout = parseDuration(options.timeout ?? DEFAULT_TIMEOUT, 'timeout');
  const optDuration = (d: Duration | null | undefined, what: string) => (d === null || d === undefined ? undefined : parseDuration(d, what));
  const accessExpiresIn = optDuration(options.defaults?.access?.expiresIn, 'defaults.access.expiresIn');
  const accessIdle = optDuration(options.defaults?.access?.idleTimeout ?? options.idleTimeout, 'idleTimeout');
  const urlDefaults = options.defaults?.url ?? {};
  const urlExpiresIn = urlDefaults.expiresIn === null ? undefined : parseDuration(urlDefaults.expiresIn ?? '7d', 'defaults.url.expiresIn');
  const urlMaxUses = urlDefaults.maxUses === undefined ? 1 : urlDefaults.maxUses === null ? null : validateMaxUses(urlDefaults.maxUses, 'defaults.url.maxUses');
  // GET only: link previews (chat apps, mail scanners) send HEAD and would spend one-time links
  const urlMethods = validateMethods(urlDefaults.methods ?? ['GET']);
  const optRate = (r: RateLimitOption | null | undefined, what: string) => (r === null || r === undefined ? undefined : validateRateLimit(r, what));
  const accessRate = optRate(options.defaults?.access?.rateLimit, 'defaults.access.rateLimit');
  const urlRate = optRate(urlDefaults.rateLimit, 'defaults.url.rateLimit');
  const rateFor = (r: RateLimitOption | null | undefined, fallback: TokenInfo['rateLimit']) => (r === null ? undefined : r === undefined ? fallback : validateRateLimit(r));
  const clock = options.clock;
  const now = clock
    ? () => {
        const t = clock();
        return typeof t === 'number' ? t : t.getTime();
      }
    : Date.now;
  // The time handed to the store's consume: one Date per millisecond. Building a Date is a call
  // into V8's C++ runtime (about 0.07 µs, a tenth of a memory-store verify); stores only read it.
  let dateMs = Number.NaN;
  let date = new Date(0);
  const dateAt = (at: number): Date => {
    if (at !== dateMs) {
      dateMs = at;
      date = new Date(at);
    }
    return date;
  };

  const report = (e: unknown, name: string) => (options.onHookError ?? ((err, h) => console.error(`[tokenaccess] ${h} hook failed`, err)))(e, name);
  const emit = <A>(name: string, hook: ((a: A) => void | Promise<void>) | undefined, arg: A) => {
    if (!hook) return;
    try {
      const r = hook(arg);
      if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).then(undefined, (e: unknown) => report(e, name));
    } catch (e) {
      report(e, name);
    }
  };

  // The verify cache (undefined without `cache`) and its feed: subscribed for the life of the service.
  const feed = options.cache?.invalidation;
  const cache = options.cache === undefined ? undefined : new VerifyCache(options.cache, feed !== undefined);
  const tokenLength = generateToken(prefix).length;
  if (cache && feed) {
    if (typeof feed.publish !== 'function' || typeof feed.subscribe !== 'function') throw invalid('cache.invalidation must be a feed: { publish, subscribe }');
    feed.subscribe(
      (keys) => cache.invalidate(keys),
      (state) => cache.setState(state, now()),
    );
  }
  /**
   * Drops the keys here at once, then tells every other process. Awaited by the operation that
   * changed them, so a revoke has been published when it returns; a feed that fails is reported
   * (onHookError, hook `invalidation`), not thrown: the store write happened, and `ttl` bounds
   * what other processes may still serve.
   */
  async function changed(keys: string[]): Promise<void> {
    if (!cache || keys.length === 0) return;
    cache.invalidate(keys);
    if (!feed) return;
    try {
      await feed.publish(keys);
    } catch (e) {
      report(e, 'invalidation');
    }
  }
  const changedRecords = (records: TokenInfo[]) => changed(records.map((r) => r.hash));

  const admin = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof TokenAccessError) throw e;
      throw new TokenAccessError('unavailable', `${what} failed: the store is unavailable`, { cause: e });
    }
  };

  // Expanded scope requirements are cached: routes ask for the same few sets on every request.
  // Keys are built without allocating for the common one-scope case (callers usually pass a
  // fresh array literal, so caching by array identity would only churn a WeakMap).
  // One map for single scopes (keyed by the scope itself) and one for lists (keyed by the
  // joined list), per mode, so no key of one kind can stand for the other.
  const policies = {
    all: { one: new Map<string, ConsumePolicy>(), many: new Map<string, ConsumePolicy>() },
    any: { one: new Map<string, ConsumePolicy>(), many: new Map<string, ConsumePolicy>() },
  };
  function policyFor(check: CheckOptions | undefined): ConsumePolicy {
    if (check?.count === false) return peekOf(countedPolicyFor(check));
    return countedPolicyFor(check);
  }
  function countedPolicyFor(check: CheckOptions | undefined): ConsumePolicy {
    const scopes = check?.scopes;
    if (!scopes || scopes.length === 0) return basePolicy;
    const mode = check.mode ?? 'all';
    if (mode !== 'all' && mode !== 'any') throw invalid(`mode must be 'all' or 'any' (got ${JSON.stringify(mode)})`);
    const cache = scopes.length === 1 ? policies[mode].one : policies[mode].many;
    const key = scopes.length === 1 ? scopes[0]! : scopes.join('\u0000');
    let p = cache.get(key);
    if (!p) {
      p = { lastUsedResolution: resolution, scopes: { mode, anyOf: validateScopes(scopes, 'required scopes').map(expandScope) } };
      if (cache.size >= 1000) cache.clear();
      cache.set(key, p);
    }
    return p;
  }
  const basePolicy: ConsumePolicy = { lastUsedResolution: resolution };

  // `count: false`: the same rules on a plain read, nothing spent or written. The policy carries
  // a private mark (stores never see a peek: it is answered here from findByHash).
  const PEEK = Symbol('peek');
  const peekOf = (p: ConsumePolicy): ConsumePolicy => Object.defineProperty({ ...p }, PEEK, { value: true });
  const isPeek = (p: ConsumePolicy) => (p as { [PEEK]?: true })[PEEK] === true;
  const consume = (hash: string, at: Date, policy: ConsumePolicy): Promise<ConsumeResult> =>
    isPeek(policy)
      ? store.findByHash(hash).then((r): ConsumeResult => {
          if (!r) return { ok: false, reason: 'not_found' };
          const out = evaluateConsume(r, at.getTime(), policy);
          return out.ok ? { ok: true, record: r } : { ok: false, reason: out.reason, record: r };
        })
      : store.consume(hash, at, policy);

  function reject(r: Reject, raw: string | undefined): VerifyResult {
    const error = verifyError(r.code, { realm, scopes: r.scopes, rate: r.rate });
    if (!options.onRejected) return { ok: false, error }; // the event is for the hook alone
    const event: RejectionEvent = { code: r.code, status: error.status, reason: redactTokens(r.reason, prefix) };
    if (raw !== undefined) {
      // a legacy token has no safe prefix to show: only what its format offers (Sanctum's id)
      const hint = isWellFormed(raw, prefix) ? tokenHint(raw, prefix) : legacy?.hint(raw);
      if (hint !== undefined) event.hint = hint;
    }
    if (r.token) {
      event.tokenId = r.token.id;
      if (r.token.subject !== undefined) event.subject = r.token.subject;
    }
    if (r.cause !== undefined) event.cause = r.cause;
    emit('onRejected', options.onRejected, event);
    return { ok: false, error };
  }

  function explain(reason: string, token: TokenInfo | undefined, at: number, policy: ConsumePolicy): string {
    switch (reason) {
      case 'not_found':
        return 'no token with this hash (unknown or revoked)';
      case 'expired':
        return token?.expiresAt && token.expiresAt.getTime() <= at
          ? `expired at ${token.expiresAt.toISOString()}`
          : `idle for longer than ${token?.idleTimeout ?? '?'} ms`;
      case 'exhausted':
        return `used ${token?.uses ?? '?'} of ${token?.maxUses ?? '?'} times`;
      case 'rate_limited':
        return `${token?.rateCount ?? '?'} of ${token?.rateLimit?.limit ?? '?'} verifications in the current ${token?.rateLimit?.window ?? '?'} ms window`;
      case 'url_mismatch':
        if (!policy.url) return 'a URL token was presented as a Bearer token';
        if (token && !token.url) return 'an API token was presented in a URL';
        // the request's values are left out: a log line must not carry what a client put in a query
        return `${policy.url.method} ${withoutValues(policy.url.canonical)} does not match the binding ${token?.url?.methods.join('|') ?? '?'} ${token?.url?.canonical ?? '?'}`;
      default:
        return `required ${policy.scopes?.mode ?? 'all'} of [${requiredScopes(policy).join(', ')}], token holds [${token?.scopes.join(', ') ?? '?'}]`;
    }
  }

  function settle(result: ConsumeResult, at: number, policy: ConsumePolicy, raw: string): VerifyResult | null {
    if (result.ok) {
      emit('onVerified', options.onVerified, result.record);
      if (result.record.rateLimit === undefined) return { ok: true, token: result.record };
      return { ok: true, token: result.record, headers: rateLimitHeaders(rateOf(result.record, at)!) };
    }
    if (result.reason === 'not_found') return null;
    const required = policy.scopes ? requiredScopes(policy) : undefined;
    const rate = result.reason === 'rate_limited' && result.record ? rateOf(result.record, at) : undefined;
    return reject({ code: result.reason, reason: explain(result.reason, result.record, at, policy), token: result.record, scopes: required, rate }, raw);
  }
  /** A rate-limited record's state at `at`, as the headers report it. */
  function rateOf(record: TokenInfo, at: number): RateState | undefined {
    const s = rateState(livenessOf(record), at);
    return s && { limit: s.limit, window: s.window, remaining: s.remaining, resetIn: s.resetAt - at };
  }
  const notFound = (raw: string, at: number, policy: ConsumePolicy) => reject({ code: 'not_found', reason: explain('not_found', undefined, at, policy) }, raw);
  const failed = (raw: string, e: unknown) =>
    reject({ code: 'unavailable', reason: `the store failed: ${e instanceof Error ? e.message : String(e)}`, cause: e }, raw);
  // a store that bounds its own calls within our timeout needs no second guard on the hot path
  const selfBounded = store.callTimeout !== undefined && store.callTimeout <= timeout;
  const guard = (p: Promise<ConsumeResult>) => (selfBounded ? p : withTimeout(p, timeout));
  const guardRead = (p: Promise<TokenInfo | null>) => (selfBounded ? p : withTimeout(p, timeout));

  /**
   * The one verification path: format check, then one `consume` per candidate hash (one, unless
   * a pepper is being rotated). Written without async layers: this is the hot path. A token not
   * of our format goes to the legacy formats (when configured), one `consume` per format that
   * takes it.
   */
  function check(raw: string, policy: ConsumePolicy): Promise<VerifyResult> {
    if (cache && raw.length === tokenLength && hasher.lookups.length === 1) {
      // A hit needs no format check: only a well-formed token was ever cached under its hash.
      const h = hasher.lookups[0]!(raw);
      if (typeof h === 'string') {
        const at = now();
        const served = fromCache(h, at, policy, raw);
        if (served) return Promise.resolve(served);
        if (!isWellFormed(raw, prefix)) return legacy ? checkLegacy(raw, policy) : malformed(raw);
        if (cache.isUnknown(h, at)) return Promise.resolve(notFound(raw, at, policy));
        return ask(raw, h, at, policy);
      }
    }
    if (!isWellFormed(raw, prefix)) return legacy ? checkLegacy(raw, policy) : malformed(raw);
    const at = now();
    const h = hasher.lookups.length === 1 ? hasher.lookups[0]!(raw) : undefined;
    if (typeof h !== 'string') return checkEach(raw, policy, at);
    if (cache) {
      const served = fromCache(h, at, policy, raw);
      if (served) return Promise.resolve(served);
      if (cache.isUnknown(h, at)) return Promise.resolve(notFound(raw, at, policy));
    }
    return ask(raw, h, at, policy);
  }

  /** One `consume` for a well-formed token's hash (what the cache learns from it kept). */
  function ask(raw: string, h: string, at: number, policy: ConsumePolicy): Promise<VerifyResult> {
    const mark = cache?.mark() ?? 0;
    let p: Promise<ConsumeResult>;
    try {
      p = guard(consume(h, dateAt(at), policy));
    } catch (e) {
      return Promise.resolve(failed(raw, e));
    }
    return p.then(
      (r) => {
        if (cache) remember(h, r, mark, at, true);
        return settle(r, at, policy, raw) ?? notFound(raw, at, policy);
      },
      (e: unknown) => failed(raw, e),
    );
  }

  async function checkEach(raw: string, policy: ConsumePolicy, at: number): Promise<VerifyResult> {
    try {
      const mark = cache?.mark() ?? 0;
      let first: string | undefined;
      for (const lookup of hasher.lookups) {
        const h = await lookup(raw);
        if (cache) {
          const served = fromCache(h, at, policy, raw);
          if (served) return served;
          // "unknown" is kept under the current key's hash, and means every key was tried
          if (first === undefined && cache.isUnknown(h, at)) return notFound(raw, at, policy);
        }
        first ??= h;
        const r = await guard(consume(h, dateAt(at), policy));
        if (cache) remember(h, r, mark, at, false);
        const out = settle(r, at, policy, raw);
        if (out) return out;
      }
      if (cache && first !== undefined) cache.putNegative(first, mark, at);
      return notFound(raw, at, policy);
    } catch (e) {
      return failed(raw, e);
    }
  }

  /**
   * A verification answered from the cache, or undefined to ask the store. A cached record gets
   * every rule the store applies (evaluateConsume). A refusal the record alone decides (binding,
   * scopes) is answered here; disabled, expired or used up goes to the store, which has the
   * newer record (another process may have used an idle token since) and the final word.
   */
  function fromCache(h: string, at: number, policy: ConsumePolicy, raw: string): VerifyResult | undefined {
    const e = cache!.get(h, at);
    if (e === undefined) return undefined;
    // evaluateConsume's rules, in its order, for a record that is never disabled and never
    // counted, on liveness fields computed once when it was cached (no allocation per hit)
    if (deadAt(e.live, at)) return undefined;
    const reason = !bindingMatches(e.rec.url, policy.url) ? 'url_mismatch' : policy.scopes && !satisfiesScopes(e.rec.scopes, policy.scopes) ? 'insufficient_scope' : undefined;
    if (reason) return settle({ ok: false, reason, record: copyRecord(e.rec) }, at, policy, raw)!;
    if ((e.live.lastUsedAt === undefined || at - e.live.lastUsedAt >= policy.lastUsedResolution) && !isPeek(policy)) touch(h, at, policy);
    // settle's success, without its detour: a cached record is never rate-limited (no headers)
    const token = copyRecord(e.rec);
    emit('onVerified', options.onVerified, token);
    return { ok: true, token };
  }

  /**
   * `lastUsedAt` is stale on a cached record: write it off the hot path, as the store's consume
   * would have (at most once per `lastUsedResolution` per process). A failure is left for the
   * next one: the verification it belongs to has been answered.
   */
  function touch(h: string, at: number, policy: ConsumePolicy): void {
    cache!.touched(h, at);
    const mark = cache!.mark();
    try {
      guard(store.consume(h, dateAt(at), policy)).then(
        (r) => remember(h, r, mark, at, false),
        () => {},
      );
    } catch {
      // a store that throws synchronously: the same as a failed write
    }
  }

  /** What a store answer teaches the cache. `negative`: a not_found is final (one lookup). */
  function remember(h: string, r: ConsumeResult, mark: number, at: number, negative: boolean): void {
    if (r.ok) cache!.put(h, r.record, mark, at);
    else if (r.reason === 'not_found') {
      cache!.forget(h);
      if (negative) cache!.putNegative(h, mark, at);
    } else if (r.record && (r.reason === 'url_mismatch' || r.reason === 'insufficient_scope')) cache!.put(h, r.record, mark, at);
    else cache!.forget(h);
  }

  const malformed = (raw: string) => Promise.resolve(reject({ code: 'malformed', reason: 'wrong prefix, length, charset or checksum (no store was asked)' }, raw));

  /** A token of another system: its format's hash (plain SHA-256 by default, never peppered), one `consume` per format that takes it. */
  async function checkLegacy(raw: string, policy: ConsumePolicy): Promise<VerifyResult> {
    const at = now();
    try {
      const found = legacy!.first(raw, async (hash) => settle(await guard(consume(hash, dateAt(at), policy)), at, policy, raw));
      if (found === undefined) return malformed(raw);
      return (await found) ?? notFound(raw, at, policy);
    } catch (e) {
      return failed(raw, e);
    }
  }

  async function checkUrl(url: string, method: string, check_: CheckOptions | undefined, bearer: string | undefined): Promise<VerifyResult> {
    let c;
    try {
      c = canonicalize(url, { tokenParam: urlParam, exclude });
    } catch (e) {
      // An unparseable request URL cannot carry a URL token; a Bearer token still decides.
      if (bearer !== undefined) return check(bearer, policyFor(check_));
      return reject({ code: 'invalid_request', reason: e instanceof Error ? e.message : 'bad url' }, undefined);
    }
    if (c.tokens.length > 1) return reject({ code: 'invalid_request', reason: `the URL carries ${c.tokens.length} '${urlParam}' parameters` }, undefined);
    if (c.tokens.length === 1 && bearer !== undefined) return reject({ code: 'invalid_request', reason: 'a Bearer token and a URL token were both presented' }, undefined);
    if (bearer !== undefined) return check(bearer, policyFor(check_));
    if (c.tokens.length === 0) return reject({ code: 'missing', reason: `no Authorization header and no '${urlParam}' parameter` }, undefined);
    // no binding is ever in this form (issueUrl refuses it), so nothing is asked or spent
    if (c.unsafe) return reject({ code: 'url_mismatch', reason: `the request path is not in routable form: ${c.unsafe}` }, c.tokens[0]);
    const m = method.toUpperCase();
    const base = countedPolicyFor(check_);
    const withUrl: ConsumePolicy = { ...base, url: { canonical: c.canonical, method: m, ...(options.checkOrigin ? { origin: c.origin ?? '' } : {}) } };
    return check(c.tokens[0]!, check_?.count === false ? peekOf(withUrl) : withUrl);
  }

  function expiry(input: { expiresIn?: Duration | null; expiresAt?: Date }, fallback: number | undefined, at: number): Date | undefined {
    if (input.expiresAt !== undefined) {
      if (input.expiresIn !== undefined) throw invalid('give expiresIn or expiresAt, not both');
      if (!(input.expiresAt instanceof Date) || Number.isNaN(input.expiresAt.getTime())) throw invalid('expiresAt must be a valid Date');
      if (input.expiresAt.getTime() <= at) throw invalid('expiresAt is in the past');
      return input.expiresAt;
    }
    const ms = input.expiresIn === null ? undefined : input.expiresIn === undefined ? fallback : parseDuration(input.expiresIn, 'expiresIn');
    return ms === undefined ? undefined : new Date(at + ms);
  }

  async function create(kind: TokenKind, fields: {
    subject?: string; name: string; scopes?: string[]; expiresAt?: Date; idleTimeout?: number; maxUses?: number | null; metadata?: Record<string, JsonValue>; url?: TokenInfo['url'];
    refill?: { every: Duration } | { every: number }; parentId?: string; rateLimit?: { limit: number; window: number };
  }, at: number): Promise<{ token: string; info: TokenInfo }> {
    const token = generateToken(prefix);
    const h = hasher.issue(token);
    const info: TokenInfo = {
      id: newId(at),
      kind,
      name: fields.name,
      // least privilege: a share link opens its one URL and grants no scope unless given some
      scopes: fields.scopes === undefined ? (kind === 'access' ? ['*'] : []) : validateScopes(fields.scopes),
      uses: 0,
      createdAt: new Date(at),
      hint: tokenHint(token, prefix),
      hash: typeof h === 'string' ? h : await h,
    };
    if (fields.subject !== undefined) info.subject = fields.subject;
    if (fields.url) info.url = fields.url;
    if (fields.expiresAt) info.expiresAt = fields.expiresAt;
    if (fields.idleTimeout !== undefined) info.idleTimeout = fields.idleTimeout;
    if (fields.maxUses !== undefined && fields.maxUses !== null) info.maxUses = validateMaxUses(fields.maxUses);
    if (fields.metadata !== undefined) info.metadata = validateMetadata(fields.metadata);
    if (fields.refill !== undefined) info.refill = validateRefill(fields.refill, info.maxUses);
    if (fields.parentId !== undefined) info.parentId = fields.parentId;
    if (fields.rateLimit !== undefined) info.rateLimit = { limit: fields.rateLimit.limit, window: fields.rateLimit.window };
    await admin('issue', () => store.insert(info));
    // a process that cached "unknown" for this hash must not keep refusing it
    await changed([info.hash]);
    emit('onIssued', options.onIssued, info);
    return { token, info };
  }

  /**
   * Runs `fn` on the token's hash under each pepper key, current first, until one finds a record;
   * for a token of a legacy format, on its hash under each format that takes it.
   */
  async function byRawToken(raw: string, what: string, byId: string, fn: (hash: string) => Promise<TokenInfo | null>): Promise<TokenInfo | null> {
    if (!isWellFormed(raw, prefix)) {
      const found = legacy?.first(raw, fn);
      if (found === undefined) throw invalid(`${what} needs a well-formed raw token (use ${byId} for an id)`);
      return found;
    }
    for (const lookup of hasher.lookups) {
      const found = await fn(await lookup(raw));
      if (found) return found;
    }
    return null;
  }

  const api: TokenAccess = {
    prefix,
    urlParam,
    realm,

    async issue(input) {
      if (!input || typeof input !== 'object') throw invalid('issue needs { subject, name }');
      const at = now();
      return create('access', {
        subject: validateText(input.subject, 'subject'),
        name: validateText(input.name, 'name'),
        scopes: input.scopes,
        expiresAt: expiry(input, accessExpiresIn, at),
        idleTimeout: input.idleTimeout === null ? undefined : input.idleTimeout === undefined ? accessIdle : parseDuration(input.idleTimeout, 'idleTimeout'),
        maxUses: input.maxUses,
        metadata: input.metadata,
        refill: input.refill,
        rateLimit: rateFor(input.rateLimit, accessRate),
      }, at);
    },

    async issueUrl(input) {
      if (!input || typeof input !== 'object') throw invalid('issueUrl needs { url }');
      const c = canonicalizeUrl(input.url, { tokenParam: urlParam, exclude });
      if (c.tokens.length > 0) throw invalid(`the url already has a '${urlParam}' parameter`);
      const at = now();
      const methods = input.methods === undefined ? urlMethods : validateMethods(input.methods);
      const { token, info } = await create('url', {
        subject: input.subject === undefined ? undefined : validateText(input.subject, 'subject'),
        name: input.name === undefined ? 'share link' : validateText(input.name, 'name'),
        scopes: input.scopes,
        expiresAt: expiry(input, urlExpiresIn, at),
        idleTimeout: input.idleTimeout === null || input.idleTimeout === undefined ? undefined : parseDuration(input.idleTimeout, 'idleTimeout'),
        maxUses: input.maxUses === undefined ? urlMaxUses : input.maxUses,
        metadata: input.metadata,
        refill: input.refill,
        rateLimit: rateFor(input.rateLimit, urlRate),
        url: { url: input.url, ...(c.origin ? { origin: c.origin } : {}), canonical: c.canonical, methods },
      }, at);
      return { token, info, url: appendTokenParam(input.url, urlParam, token) };
    },

    verify(raw, opts) {
      if (typeof raw !== 'string' || raw === '') return Promise.resolve(reject({ code: 'missing', reason: 'no token given' }, undefined));
      let policy: ConsumePolicy;
      try {
        policy = policyFor(opts);
      } catch (e) {
        return Promise.reject(e);
      }
      return check(raw, policy);
    },

    async verifyUrl(url, opts) {
      return checkUrl(url, opts?.method ?? 'GET', opts, undefined);
    },

    async authenticate(request, opts = {}) {
      if (!request || typeof request !== 'object' || !request.headers) throw invalid('authenticate needs a Request or { headers, url, method }');
      if (opts.getToken) {
        let raw: string | null | undefined;
        try {
          raw = await opts.getToken(request);
        } catch (e) {
          return reject({ code: 'invalid_request', reason: `getToken threw: ${e instanceof Error ? e.message : String(e)}` }, undefined);
        }
        if (raw === null || raw === undefined || raw === '') return reject({ code: 'missing', reason: 'getToken returned no token' }, undefined);
        return check(raw, policyFor(opts));
      }
      const header = opts.header ?? 'authorization';
      const bearer = parseBearer(readHeader(request.headers, header), header.toLowerCase() !== 'authorization');
      if (bearer === null) return reject({ code: 'invalid_request', reason: `the ${header} header is not a single Bearer token` }, undefined);
      const url = request.url;
      if (opts.cookie !== undefined) {
        const session = readCookie(request, opts.cookie);
        if (session !== undefined && session !== '') {
          if (bearer !== undefined || (opts.urlTokens !== false && typeof url === 'string' && hasTokenParam(url))) {
            return reject({ code: 'invalid_request', reason: 'a session cookie and another credential were both presented' }, undefined);
          }
          const policy = countedPolicyFor(opts);
          return share.checkSession(session, request, { ...(policy.scopes ? { scopes: policy.scopes } : {}), required: requiredScopes(policy) });
        }
      }
      if (opts.urlTokens !== false && typeof url === 'string' && url.includes('?')) {
        return checkUrl(url, request.method ?? 'GET', opts, bearer);
      }
      if (bearer === undefined) return reject({ code: 'missing', reason: `no ${header} header` }, undefined);
      return check(bearer, policyFor(opts));
    },

    get: (id) => admin('get', () => store.findById(validateText(id, 'id'))),

    inspect: (raw) => byRawToken(raw, 'inspect', 'get', (hash) => admin('inspect', () => store.findByHash(hash))),

    list(opts = {}) {
      const limit = opts.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid('limit must be an integer from 1 to 1000');
      if (opts.kind !== undefined && opts.kind !== 'access' && opts.kind !== 'url' && opts.kind !== 'session') throw invalid("kind must be 'access', 'url' or 'session'");
      if (opts.expiringBefore !== undefined && (!(opts.expiringBefore instanceof Date) || Number.isNaN(opts.expiringBefore.getTime()))) throw invalid('expiringBefore must be a valid Date');
      const query: ListQuery = { limit };
      if (opts.subject !== undefined) query.subject = opts.subject;
      if (opts.kind) query.kind = opts.kind;
      if (opts.parentId !== undefined) query.parentId = validateText(opts.parentId, 'parentId');
      if (opts.expiringBefore !== undefined) query.expiringBefore = opts.expiringBefore;
      if (opts.cursor) query.cursor = opts.cursor;
      return admin('list', () => store.list(query));
    },

    revoke: (raw) => byRawToken(raw, 'revoke', 'revokeById', (hash) => api.revokeByHash(hash)),

    async revokeById(id) {
      const found = await admin('revokeById', () => store.deleteById(validateText(id, 'id')));
      if (found) await revoked(found);
      else {
        // gone already: maybe a revoke that was cut off before its descendants (repeating it
        // finishes the cascade, so a derived token never outlives its revoked parent)
        const orphans = await life.revokeDescendants(id);
        if (orphans.length > 0) emit('onRevoked', options.onRevoked, orphans);
      }
      return found;
    },

    async revokeByHash(hash) {
      const found = await admin('revokeByHash', () => store.deleteByHash(validateText(hash, 'hash')));
      if (found) await revoked(found);
      return found;
    },

    async revokeAll(subject) {
      const s = validateText(subject, 'subject');
      const count = await admin('revokeAll', () => store.deleteBySubject(s));
      // published even when this store found none: another process may hold one cached
      await changed([invalidationKey.subject(s)]);
      if (count > 0) emit('onRevoked', options.onRevoked, { subject: s, count });
      return count;
    },

    sweep: (opts) => admin('sweep', () => store.sweep(new Date(now()), opts)),

    exchange: (request, opts) => share.exchange(request, opts),
    update: (id, patch) => life.update(id, patch),
    disable: (id) => life.disable(id),
    enable: (id) => life.enable(id),
    rotate: (id, opts) => life.rotate(id, opts),
    derive: (parentId, opts) => life.derive(parentId, opts),
  };
  /** A revoked token: published at once, then its descendants revoked (and published), then `onRevoked`. */
  async function revoked(found: TokenInfo): Promise<void> {
    await changedRecords([found]);
    emit('onRevoked', options.onRevoked, [found, ...(await life.revokeDescendants(found.id))]);
  }
  const life = lifecycle({ store, now, admin, emit, options, urlParam, create, changed: changedRecords });
  const share = sessions({
    urlParam,
    realm,
    now,
    checkUrl: (url, method, check_) => checkUrl(url, method, check_, undefined),
    create: (fields, at) => create('session', fields, at),
    lookUp: (raw) => byRawToken(raw, 'session', 'get', (hash) => (cache ? cachedRead(hash) : guardRead(store.findByHash(hash)))),
    isWellFormed: (raw) => isWellFormed(raw, prefix),
    reject: (code, reason, raw, token, scopes) => reject({ code, reason, ...(token ? { token } : {}), ...(scopes ? { scopes } : {}) }, raw),
    failed,
  });
  /** A session's record: from the cache, else one read (kept when it may be served). */
  async function cachedRead(hash: string): Promise<TokenInfo | null> {
    const at = now();
    const hit = cache!.get(hash, at);
    if (hit) return copyRecord(hit.rec);
    const mark = cache!.mark();
    const found = await guardRead(store.findByHash(hash));
    if (found) cache!.put(hash, found, mark, at);
    return found;
  }
  /** Whether a URL carries the token parameter (cheap: only asked when a session cookie came too). */
  function hasTokenParam(url: string): boolean {
    try {
      return canonicalize(url, { tokenParam: urlParam, exclude }).tokens.length > 0;
    } catch {
      return false;
    }
  }
  return api;
}

/** The required scopes behind a policy: expandScope puts each second, after '*' (alone when it is '*'). */
function requiredScopes(policy: ConsumePolicy): string[] {
  return policy.scopes ? policy.scopes.anyOf.map((l) => l[1] ?? l[0]!) : [];
}
