import { TokenAccessError } from '../errors';
import { storeMessage } from './errors';

/** Longest single pause of a duty cycle, ms: a step stalled by the network does not park the sweep. */
const MAX_REST = 1000;

/**
 * The default share of the wall time a sweep works (measured in bench/scale; docs/scale.md).
 *
 * @example
 * ```ts
 * const cycle = dutyCycle(DEFAULT_SWEEP_PACE); // rests as long as each step took
 * ```
 */
export const DEFAULT_SWEEP_PACE = 0.5;

const pause = (ms: number) => new Promise<void>((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));

/**
 * A duty cycle for a sweep, written once for every store: `rest()`, called between steps,
 * pauses in proportion to the time worked since the last rest ended, so the sweep keeps the
 * event loop and the store busy for at most `share` of the wall time (0.5: it rests as long as it
 * worked). Pauses under 1 ms are owed and paid together (a timer cannot wait less); a pause that
 * overran is credited; no single pause is longer than 1 s. `minPause` is a floor per step, 0 a
 * bare yield. At `share` 1 it only yields to the event loop.
 *
 * @example
 * ```ts
 * const cycle = dutyCycle(0.5);
 * for (const step of steps) { await step(); await cycle.rest(); } // half the time working, at most
 * ```
 */
export function dutyCycle(share: number, minPause = 0, clock: () => number = () => performance.now(), sleep: (ms: number) => Promise<void> = pause) {
  let resumed = clock();
  let owed = 0;
  return {
    async rest(): Promise<void> {
      const worked = clock() - resumed;
      if (share < 1) owed = Math.min(MAX_REST, owed + (worked * (1 - share)) / share);
      const wait = Math.max(minPause, owed >= 1 ? owed : 0);
      const t0 = clock();
      await sleep(wait);
      resumed = clock();
      owed = Math.max(0, owed - (resumed - t0));
    },
  };
}

/**
 * A store's `sweepPace` option as a share: `'full'` (the same as 1) for a process that serves no
 * verifies, else a number from 0.01 to 1; anything else is `invalid_argument`.
 *
 * @example
 * ```ts
 * const share = sweepShare('redis', options.sweepPace); // 0.5 by default
 * ```
 */
export function sweepShare(store: string, pace: number | 'full' | undefined): number {
  if (pace === undefined) return DEFAULT_SWEEP_PACE;
  if (pace === 'full') return 1;
  if (typeof pace !== 'number' || !(pace >= 0.01 && pace <= 1)) {
    throw new TokenAccessError('invalid_argument', storeMessage(store, `sweepPace must be 'full' or a share from 0.01 to 1 (got ${String(pace)})`));
  }
  return pace;
}
