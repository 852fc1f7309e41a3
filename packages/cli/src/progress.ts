import { count } from './format';
import type { OutputStream } from './io';

/** A progress display for a long operation; a no-op unless its stream is a TTY. */
export interface Progress {
  /** Sets the number done so far (and the total, once known). */
  update(done: number, total?: number): void;
  /** Draws the final state and ends the line. */
  done(): void;
  /** Whether anything is drawn (false in pipes). */
  readonly active: boolean;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Label before the bar: `sweeping`, `revoking`. */
  label: string;
  /** Total, when known up front; without it the bar is indeterminate and shows the count. */
  total?: number;
  /** Minimum ms between redraws. @default 80 */
  interval?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

const BAR = 24;

/**
 * A one-line progress bar on `stream` (stderr), redrawn in place with `\r`, at most every
 * `interval` ms: `sweeping [██████████░░░░░░░░░░░░░░]  42%  42,000/100,000`. With no total it
 * shows a moving block and the count. On a non-TTY stream it draws nothing at all, so pipes and
 * logs stay clean.
 *
 * @example
 * ```ts
 * const bar = createProgress(process.stderr, { label: 'sweeping', total: 100_000 });
 * await store.sweep(new Date(), { onProgress: (n) => bar.update(n) });
 * bar.done();
 * ```
 */
export function createProgress(stream: OutputStream, options: ProgressOptions): Progress {
  const active = stream.isTTY === true;
  const now = options.now ?? Date.now;
  const interval = options.interval ?? 80;
  let total = options.total;
  let last = -Infinity;
  let frame = 0;
  let current = 0;

  const draw = () => {
    // a pty without a size (script, CI) reports 0 columns
    const width = Math.max(20, Math.min(stream.columns ? stream.columns : 80, 120));
    let line: string;
    if (total !== undefined && total > 0) {
      const ratio = Math.min(1, current / total);
      const full = Math.round(ratio * BAR);
      line = `${options.label} [${'█'.repeat(full)}${'░'.repeat(BAR - full)}] ${String(Math.floor(ratio * 100)).padStart(3)}%  ${count(current)}/${count(total)}`;
    } else {
      const pos = frame++ % (BAR - 3);
      line = `${options.label} [${' '.repeat(pos)}███${' '.repeat(BAR - 3 - pos)}]  ${count(current)}`;
    }
    stream.write(`\r${line.slice(0, width - 1)}\x1b[K`);
  };

  return {
    active,
    update(done, newTotal) {
      current = done;
      if (newTotal !== undefined) total = newTotal;
      if (!active) return;
      const t = now();
      if (t - last < interval) return;
      last = t;
      draw();
    },
    done() {
      if (!active) return;
      // the final state is always drawn once, so a fast run still shows where it ended
      draw();
      stream.write('\n');
    },
  };
}
