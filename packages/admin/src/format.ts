import type { TokenInfo } from '@tokenaccess/core';
import { deadReason } from '@tokenaccess/core/store';
import { type SafeHtml, html } from './html';

/** What the list's status filter and badges show. @internal */
export type Status = 'active' | 'expired' | 'exhausted' | 'disabled';

/** The labels of {@link Status} as the page shows them. @internal */
export const STATUS_LABEL: Record<Status, string> = { active: 'active', expired: 'expired', exhausted: 'used up', disabled: 'disabled' };

/** A token's status at `now`, by core's own rule (`deadReason`) and `disabledAt`. @internal */
export function statusOf(info: TokenInfo, now: number): Status {
  if (info.disabledAt) return 'disabled';
  return deadReason(info, now) ?? 'active';
}

/** A badge for a status. @internal */
export function statusBadge(status: Status): SafeHtml {
  return html`<span class="status ${status}">${STATUS_LABEL[status]}</span>`;
}

/** A date as the page writes it: UTC, to the minute. @internal */
export const utc = (date: Date): string => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** A date in a `<time>` element (to the millisecond in `datetime`). @internal */
export function when(date: Date | undefined, empty = '—'): SafeHtml {
  if (!date) return html`${empty}`;
  return html`<time datetime="${date.toISOString()}">${utc(date)}</time>`;
}

const UNITS: [string, number][] = [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];

/** Milliseconds in the largest unit that divides them exactly (`'7d'`, `'90m'`, `'1500 ms'`). @internal */
export function duration(ms: number): string {
  for (const [unit, size] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms} ms`;
}
