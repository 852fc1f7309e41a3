/**
 * @module @tokenaccess/core/store
 *
 * The store kit: everything a store author needs, written once, so an adapter holds only its
 * engine's code (Lua, SQL, query documents), its record encoding and its client wiring.
 * `npm install @tokenaccess/core` (this is its second entry: `import … from '@tokenaccess/core/store'`).
 *
 * - the contract: `TokenStore`, `ConsumePolicy`, `ConsumeResult`, `ListQuery`, `ListPage`, `SweepOptions`;
 * - the rules: `evaluateConsume` (the reference `consume`), `deadAt`, `deadReason`,
 *   `bindingMatches`, `satisfiesScopes`, `expandScope`, `applyPatch` (the reference `update`),
 *   `listMatches` (the reference `list` filter);
 * - the read-first path: `judgeRead`;
 * - the one deadline watcher: `deadlines` (and `withTimeout`);
 * - error mapping: `storeError`, `storeMessage`, `DuplicateTokenError`;
 * - argument checks: `checkListQuery`, `sweepInBatches`;
 * - sweep pacing: `dutyCycle`, `sweepShare` (the `sweepPace` option);
 * - expiry arithmetic: `timeDeadline`, `purgeAt`, `TOMBSTONE_MS`.
 *
 * `@tokenaccess/test-suite` is the definition of a correct store.
 */
export {
  type TokenStore,
  type ConsumePolicy,
  type ConsumeResult,
  type ConsumeRefusal,
  type ListQuery,
  type ListPage,
  type SweepOptions,
  type RecordPatch,
  PATCHABLE,
  applyPatch,
  listMatches,
  evaluateConsume,
  deadReason,
  deadAt,
  usesAt,
  rateCountAt,
  rateState,
  sweepable,
  livenessOf,
  type LivenessFields,
  bindingMatches,
  satisfiesScopes,
} from './store';
export type { TokenInfo, TokenKind, UrlBinding, JsonValue, Duration } from './types';
export { expandScope } from './scopes';
export { TokenAccessError, DuplicateTokenError, type TokenAccessErrorCode } from './errors';
export { deadlines, type Deadlines } from './kit/deadline';
export { withTimeout } from './timeout';
export { storeError, storeMessage } from './kit/errors';
export { checkListQuery, sweepInBatches, MAX_LIST_LIMIT, MAX_SWEEP_BATCH } from './kit/args';
export { timeDeadline, purgeAt, TOMBSTONE_MS } from './kit/expiry';
export { judgeRead } from './kit/read-first';
export { dutyCycle, sweepShare, DEFAULT_SWEEP_PACE } from './kit/pace';
