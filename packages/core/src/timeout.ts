import { TokenAccessError } from './errors';

interface Pending {
  deadline: number;
  reject: (e: unknown) => void;
}

// One shared watchdog instead of a timer per call: verification is a hot path, and most calls
// settle long before any deadline. The interval runs only while something is pending.
const pending = new Set<Pending>();
let timer: ReturnType<typeof setInterval> | undefined;
const TICK = 50;

function tick() {
  const t = Date.now();
  for (const p of pending) {
    if (p.deadline <= t) {
      pending.delete(p);
      p.reject(new TokenAccessError('unavailable', 'the store did not answer in time'));
    }
  }
  if (pending.size === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

/** @internal Rejects with `unavailable` when `promise` has not settled within `ms` (±50 ms). */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const p: Pending = { deadline: Date.now() + ms, reject };
    pending.add(p);
    if (timer === undefined) {
      timer = setInterval(tick, TICK);
      (timer as { unref?: () => void }).unref?.();
    }
    promise.then(
      (v) => {
        pending.delete(p);
        resolve(v);
      },
      (e) => {
        pending.delete(p);
        reject(e);
      },
    );
  });
}
