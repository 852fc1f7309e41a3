import { type TokenStore, memoryStore } from '@tokenaccess/core';

/** A real memory store that counts the calls made to it (to prove when no store was asked). */
export function countingStore(inner: TokenStore = memoryStore()): TokenStore & { calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const wrapped = {} as TokenStore;
  for (const k of Object.keys(inner) as (keyof TokenStore)[]) {
    if (typeof inner[k] !== 'function') continue;
    (wrapped as unknown as Record<string, unknown>)[k] = (...args: unknown[]) => {
      calls[k] = (calls[k] ?? 0) + 1;
      return (inner[k] as (...a: unknown[]) => unknown)(...args);
    };
  }
  return Object.assign(wrapped, { calls });
}

/** A store whose every call fails, as when the network to it is gone. */
export function brokenStore(error: Error = new Error('connect ECONNREFUSED 127.0.0.1:6379')): TokenStore {
  const fail = async () => {
    throw error;
  };
  return { insert: fail, findByHash: fail, findById: fail, consume: fail, list: fail, deleteById: fail, deleteByHash: fail, deleteBySubject: fail, sweep: fail };
}

/** A store whose calls never settle. */
export function hangingStore(): TokenStore {
  const hang = () => new Promise<never>(() => {});
  return { insert: hang, findByHash: hang, findById: hang, consume: hang, list: hang, deleteById: hang, deleteByHash: hang, deleteBySubject: hang, sweep: hang };
}

/** A controllable clock. */
export function clock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) };
}
