import { parseDuration } from './duration';
import { TokenAccessError, invalid } from './errors';
import type { DeriveOptions, RotateOptions, TokenAccessOptions, UpdateOptions } from './options';
import { can, validateScopes } from './scopes';
import { type RecordPatch, type TokenStore, deadReason } from './store';
import type { Duration, JsonValue, TokenInfo } from './types';
import { appendTokenParam } from './url';
import { validateMaxUses, validateMetadata, validateRateLimit, validateRefill, validateText } from './validate';

// The lifecycle of a token (update, disable/enable, rotate, derive) on any store that has an
// atomic `update`. Derived tokens follow their parent by cascade at write time: a revoke,
// disable, rotate or narrowing of a parent is written to its descendants, so a child's verify
// reads only its own record (one round trip, on Redis Cluster too, where a parent may live in
// another slot). The cascade runs after the parent's own write, one descendant at a time; a
// crash part-way leaves some descendants unchanged until the operation is repeated (it is
// idempotent: a repeated `revokeById` of a parent already deleted still revokes what it left).

type Fields = {
  subject?: string; name: string; scopes?: string[]; expiresAt?: Date; idleTimeout?: number; maxUses?: number | null;
  metadata?: Record<string, JsonValue>; url?: TokenInfo['url']; refill?: { every: number }; parentId?: string;
  rateLimit?: { limit: number; window: number };
};

/** What the lifecycle needs from `createTokenAccess`. @internal */
export interface LifecycleContext {
  store: TokenStore;
  now: () => number;
  admin: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
  emit: <A>(name: string, hook: ((a: A) => void | Promise<void>) | undefined, arg: A) => void;
  options: TokenAccessOptions;
  urlParam: string;
  create: (kind: TokenInfo['kind'], fields: Fields, at: number) => Promise<{ token: string; info: TokenInfo }>;
  /** Tells the verify cache (this process's and, through its feed, every other's) that these records changed. */
  changed: (records: TokenInfo[]) => Promise<void>;
}

const UPDATABLE = new Set(['name', 'scopes', 'expiresAt', 'expiresIn', 'idleTimeout', 'maxUses', 'metadata', 'refill', 'rateLimit']);

/** @internal The lifecycle operations, bound to one token service. */
export function lifecycle(ctx: LifecycleContext) {
  const { store, admin, emit, options } = ctx;

  const find = async (id: string, what: string): Promise<TokenInfo> => {
    const found = await admin(what, () => store.findById(validateText(id, 'id')));
    if (!found) throw new TokenAccessError('not_found', `${what}: no token with id ${JSON.stringify(id)}`);
    return found;
  };
  const write = async (id: string, patch: RecordPatch, what: string): Promise<TokenInfo> => {
    const update = store.update;
    if (typeof update !== 'function') throw invalid(`${what} needs a store with update(id, patch); this store has none`);
    const out = await admin(what, () => update.call(store, id, patch));
    if (!out) throw new TokenAccessError('not_found', `${what}: no token with id ${JSON.stringify(id)}`);
    await ctx.changed([out]);
    return out;
  };

  /** Every token derived from `id`, children before grandchildren. */
  async function descendants(id: string): Promise<TokenInfo[]> {
    const out: TokenInfo[] = [];
    const queue = [id];
    while (queue.length > 0) {
      const parent = queue.shift()!;
      let cursor: string | undefined;
      do {
        const page = await admin('list', () => store.list({ parentId: parent, limit: 1000, ...(cursor ? { cursor } : {}) }));
        for (const child of page.items) {
          out.push(child);
          queue.push(child.id);
        }
        cursor = page.cursor;
      } while (cursor);
    }
    return out;
  }

  /** Writes `patchFor(child)` to each descendant that needs a change; emits `onUpdated` for each. */
  async function cascade(id: string, patchFor: (child: TokenInfo) => RecordPatch | null): Promise<void> {
    const written: TokenInfo[] = [];
    try {
      for (const child of await descendants(id)) {
        const patch = patchFor(child);
        if (!patch) continue;
        const out = await admin('cascade', () => store.update!(child.id, patch));
        if (out) {
          written.push(out);
          emit('onUpdated', options.onUpdated, out);
        }
      }
    } finally {
      // what was written is published even when the cascade stops part-way
      await ctx.changed(written);
    }
  }

  /** The patch a parent's new expiry imposes on a child: never outlive it. */
  const clampTo = (end: Date | undefined) => (child: TokenInfo): RecordPatch | null =>
    end !== undefined && (child.expiresAt === undefined || child.expiresAt.getTime() > end.getTime()) ? { expiresAt: end } : null;

  function futureDate(d: unknown, at: number, what: string): Date {
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw invalid(`${what} must be a valid Date`);
    if (d.getTime() <= at) throw invalid(`${what} is in the past`);
    return d;
  }
  const optDuration = (d: Duration | null | undefined, what: string) => (d === null ? null : d === undefined ? undefined : parseDuration(d, what));

  /** Scopes a child may hold: each covered by one of the parent's (wildcard-aware). */
  function covered(parent: TokenInfo, scopes: string[], what: string): string[] {
    const out = validateScopes(scopes, what);
    const extra = out.filter((s) => !can(parent, s));
    if (extra.length > 0) throw invalid(`${what}: [${extra.join(', ')}] not covered by the parent's scopes [${parent.scopes.join(', ')}]`);
    return out;
  }

  async function update(id: string, input: UpdateOptions): Promise<TokenInfo> {
    if (!input || typeof input !== 'object') throw invalid('update needs a patch object');
    const unknown = Object.keys(input).filter((k) => !UPDATABLE.has(k));
    if (unknown.length > 0) throw invalid(`update: unknown field(s) ${unknown.join(', ')} (the id, hash, kind, subject and binding never change)`);
    const at = ctx.now();
    const patch: RecordPatch = {};
    if (input.name !== undefined) patch.name = validateText(input.name, 'name');
    if (input.scopes !== undefined) patch.scopes = validateScopes(input.scopes);
    if (input.expiresAt !== undefined && input.expiresIn !== undefined) throw invalid('give expiresIn or expiresAt, not both');
    if (input.expiresAt !== undefined) patch.expiresAt = input.expiresAt === null ? null : futureDate(input.expiresAt, at, 'expiresAt');
    if (input.expiresIn !== undefined) {
      const ms = optDuration(input.expiresIn, 'expiresIn');
      patch.expiresAt = ms === null || ms === undefined ? null : new Date(at + ms);
    }
    if (input.idleTimeout !== undefined) patch.idleTimeout = optDuration(input.idleTimeout, 'idleTimeout') ?? null;
    if (input.maxUses !== undefined) patch.maxUses = input.maxUses === null ? null : validateMaxUses(input.maxUses);
    if (input.metadata !== undefined) patch.metadata = input.metadata === null ? null : validateMetadata(input.metadata);
    if (input.rateLimit !== undefined) patch.rateLimit = input.rateLimit === null ? null : validateRateLimit(input.rateLimit);
    const current = await find(id, 'update');
    const maxUses = patch.maxUses === undefined ? current.maxUses : (patch.maxUses ?? undefined);
    if (input.refill !== undefined) patch.refill = input.refill === null ? null : validateRefill(input.refill, maxUses);
    else if (current.refill && maxUses === undefined) throw invalid('maxUses: null on a refilling token also needs refill: null');
    if (current.parentId !== undefined) {
      // a child never out-scopes or outlives its parent
      const parent = await admin('update', () => store.findById(current.parentId!));
      if (parent) {
        if (patch.scopes) covered(parent, patch.scopes, 'scopes');
        if (parent.expiresAt && patch.expiresAt !== undefined && (patch.expiresAt === null || patch.expiresAt > parent.expiresAt)) patch.expiresAt = parent.expiresAt;
      }
    }
    if (Object.keys(patch).length === 0) return current;
    const out = await write(current.id, patch, 'update');
    emit('onUpdated', options.onUpdated, out);
    if (patch.scopes || patch.expiresAt) {
      const end = out.expiresAt;
      await cascade(out.id, (child) => {
        const p = clampTo(end)(child) ?? {};
        const kept = child.scopes.filter((s) => can(out, s));
        if (kept.length !== child.scopes.length) p.scopes = kept;
        return Object.keys(p).length > 0 ? p : null;
      });
    }
    return out;
  }

  async function disable(id: string): Promise<TokenInfo> {
    const current = await find(id, 'disable');
    if (current.disabledAt) return current;
    const stamp = new Date(ctx.now());
    const out = await write(current.id, { disabledAt: stamp }, 'disable');
    emit('onUpdated', options.onUpdated, out);
    // the descendants carry the parent's stamp, so enable knows which ones it disabled
    await cascade(out.id, (child) => (child.disabledAt ? null : { disabledAt: stamp }));
    return out;
  }

  async function enable(id: string): Promise<TokenInfo> {
    const current = await find(id, 'enable');
    if (!current.disabledAt) return current;
    const stamp = current.disabledAt.getTime();
    const out = await write(current.id, { disabledAt: null }, 'enable');
    emit('onUpdated', options.onUpdated, out);
    await cascade(out.id, (child) => (child.disabledAt?.getTime() === stamp ? { disabledAt: null } : null));
    return out;
  }

  async function rotate(id: string, opts: RotateOptions = {}): Promise<{ token: string; info: TokenInfo; previous: TokenInfo; url?: string }> {
    if (typeof opts !== 'object' || opts === null) throw invalid('rotate options must be an object');
    const grace = opts.grace === undefined || opts.grace === 0 ? 0 : parseDuration(opts.grace, 'grace');
    const old = await find(id, 'rotate');
    if (old.kind === 'session') throw invalid('rotate: a share-link session is not rotated (open the link again)');
    if (old.disabledAt) throw invalid('rotate: the token is disabled (enable it first, or revoke it)');
    const at = ctx.now();
    const dead = deadReason(old, at);
    if (dead === 'expired' || (dead === 'exhausted' && !old.refill)) throw invalid(`rotate: the token is ${dead} (issue a new one)`);
    // the new token gets the old one's lifetime, counted from now (and never outlives a parent)
    let expiresAt = old.expiresAt ? new Date(at + (old.expiresAt.getTime() - old.createdAt.getTime())) : undefined;
    if (old.parentId !== undefined) {
      const parent = await admin('rotate', () => store.findById(old.parentId!));
      if (parent?.expiresAt && (!expiresAt || expiresAt > parent.expiresAt)) expiresAt = parent.expiresAt;
    }
    const fields: Fields = { name: old.name, scopes: old.scopes, maxUses: old.maxUses ?? null };
    if (old.subject !== undefined) fields.subject = old.subject;
    if (expiresAt) fields.expiresAt = expiresAt;
    if (old.idleTimeout !== undefined) fields.idleTimeout = old.idleTimeout;
    if (old.metadata !== undefined) fields.metadata = old.metadata;
    if (old.url) fields.url = old.url;
    if (old.refill) fields.refill = old.refill;
    if (old.rateLimit) fields.rateLimit = old.rateLimit;
    if (old.parentId !== undefined) fields.parentId = old.parentId;
    // the new token first: if the old one's shortening then fails, both work (never neither)
    const { token, info } = await ctx.create(old.kind, fields, at);
    const end = new Date(at + grace);
    const previous = old.expiresAt && old.expiresAt <= end ? old : await write(old.id, { expiresAt: end }, 'rotate');
    emit('onRotated', options.onRotated, { info, previous });
    await cascade(old.id, clampTo(previous.expiresAt));
    return old.url ? { token, info, previous, url: appendTokenParam(old.url.url, ctx.urlParam, token) } : { token, info, previous };
  }

  async function derive(parentId: string, opts: DeriveOptions = {}): Promise<{ token: string; info: TokenInfo }> {
    if (typeof opts !== 'object' || opts === null) throw invalid('derive options must be an object');
    const parent = await find(parentId, 'derive');
    if (parent.kind !== 'access') throw invalid('derive: the parent must be an access token (a share link opens one URL)');
    if (parent.disabledAt) throw invalid('derive: the parent is disabled');
    const at = ctx.now();
    const dead = deadReason(parent, at);
    if (dead === 'expired' || (dead === 'exhausted' && !parent.refill)) throw invalid(`derive: the parent is ${dead}`);
    if (opts.expiresAt !== undefined && opts.expiresIn !== undefined) throw invalid('give expiresIn or expiresAt, not both');
    let expiresAt = opts.expiresAt !== undefined ? futureDate(opts.expiresAt, at, 'expiresAt') : undefined;
    const inMs = optDuration(opts.expiresIn, 'expiresIn');
    if (inMs !== undefined && inMs !== null) expiresAt = new Date(at + inMs);
    if (parent.expiresAt && (!expiresAt || expiresAt > parent.expiresAt)) expiresAt = parent.expiresAt;
    const fields: Fields = {
      name: opts.name === undefined ? `${parent.name.slice(0, 500)} (derived)` : validateText(opts.name, 'name'),
      scopes: opts.scopes === undefined ? parent.scopes : covered(parent, opts.scopes, 'scopes'),
      maxUses: opts.maxUses ?? null,
      parentId: parent.id,
    };
    if (parent.subject !== undefined) fields.subject = parent.subject;
    if (expiresAt) fields.expiresAt = expiresAt;
    const idle = optDuration(opts.idleTimeout, 'idleTimeout');
    if (idle !== undefined && idle !== null) fields.idleTimeout = idle;
    if (opts.metadata !== undefined) fields.metadata = opts.metadata;
    const rate = opts.rateLimit === undefined ? parent.rateLimit : opts.rateLimit === null ? undefined : validateRateLimit(opts.rateLimit);
    if (rate) fields.rateLimit = rate;
    return ctx.create('access', fields, at);
  }

  /**
   * Deletes every descendant of a revoked token (published to the cache); returns them (for
   * `onRevoked`). Runs after the parent is gone, so no new child of it can be derived meanwhile;
   * deepest first, so that a cascade cut off part-way leaves the upper levels in place, and it
   * needs only the parent's id: a revoke by id repeated after a cut finishes the walk.
   */
  async function revokeDescendants(parentId: string): Promise<TokenInfo[]> {
    const gone: TokenInfo[] = [];
    try {
      for (const child of (await descendants(parentId)).reverse()) {
        const out = await admin('revoke', () => store.deleteById(child.id));
        if (out) gone.push(out);
      }
    } finally {
      await ctx.changed(gone);
    }
    return gone;
  }

  return { update, disable, enable, rotate, derive, revokeDescendants };
}
