import { invalid } from './errors';
import type { CryptoProvider } from './hash';

/**
 * A token format of another system, verified by the hash that system stored. `secret` says
 * whether a raw token is of this format (and which part of it was hashed); `hash` is how the
 * source system hashed it. Nothing here is peppered: a legacy record keeps the hash its system
 * wrote, so it verifies as plain SHA-256 even when `createTokenAccess` has a `pepper`.
 *
 * @example
 * ```ts
 * // Tiki's tokens (32 or 64 hex characters), imported as SHA-256 of the whole token
 * const tiki: LegacyFormat = { name: 'tiki', secret: (raw) => (/^(?:[0-9a-f]{32}|[0-9a-f]{64})$/.test(raw) ? raw : null) };
 * ```
 */
export interface LegacyFormat {
  /** Names the format in errors: 1-32 characters of `[a-z0-9_-]`. */
  readonly name: string;
  /**
   * The part of `raw` that was hashed, or `null` when `raw` is not of this format. Called on
   * untrusted input (at most {@link MAX_LEGACY_LENGTH} characters): keep it cheap and strict,
   * since every format that accepts a token costs one store round trip.
   */
  secret(raw: string): string | null;
  /** How the source system hashed the secret. @default plain SHA-256, lower-case hex */
  hash?(secret: string): string | Promise<string>;
  /**
   * A log-safe hint for `onRejected` (never the secret), e.g. Sanctum's public id. @default none
   */
  hint?(raw: string): string | undefined;
}

/**
 * The longest raw token offered to legacy formats; longer input is `malformed` at once.
 *
 * @example
 * ```ts
 * if (raw.length > MAX_LEGACY_LENGTH) console.log('no legacy format will be asked');
 * ```
 */
export const MAX_LEGACY_LENGTH = 512;

const SANCTUM_RE = /^([0-9]{1,20})\|([\x21-\x7E]{1,255})$/;
const SHIELD_RE = /^[0-9a-f]{64}$/;
const VISIBLE_RE = /^[\x21-\x7E]+$/;

/**
 * The legacy formats core knows. Each hashes with plain SHA-256, as the source system did:
 *
 * - `sanctum`: Laravel Sanctum's `<id>|<plaintext>`; the plaintext's SHA-256 is what Sanctum
 *   stores in `personal_access_tokens.token`. The `<id>` part is not compared (the plaintext,
 *   40 random alphanumerics, carries about 238 bits); a bare plaintext, which Sanctum also
 *   accepts, needs `sha256`. Its rejection hint is `sanctum:<id>`.
 * - `shield`: CodeIgniter Shield's access tokens, 64 lower-case hex characters
 *   (`random_string('crypto', 64)`); their SHA-256 is Shield's `auth_identities.secret` (type
 *   `access_token`).
 * - `sha256`: any string of visible ASCII; its SHA-256 (Tiki's plain tokens once imported).
 *   It takes every input that fails the other formats, so each such request costs a store
 *   round trip: prefer a custom format with a strict pattern where the tokens have one.
 *
 * @example
 * ```ts
 * const tokens = createTokenAccess({ store, legacy: [legacyFormats.sanctum, legacyFormats.shield] });
 * await tokens.verify('7|Lq3mZ…'); // an imported Sanctum token
 * ```
 */
export const legacyFormats: { readonly sanctum: LegacyFormat; readonly shield: LegacyFormat; readonly sha256: LegacyFormat } = Object.freeze({
  sanctum: Object.freeze<LegacyFormat>({
    name: 'sanctum',
    secret: (raw) => SANCTUM_RE.exec(raw)?.[2] ?? null,
    hint: (raw) => {
      const id = SANCTUM_RE.exec(raw)?.[1];
      return id === undefined ? undefined : `sanctum:${id}`;
    },
  }),
  shield: Object.freeze<LegacyFormat>({ name: 'shield', secret: (raw) => (SHIELD_RE.test(raw) ? raw : null) }),
  sha256: Object.freeze<LegacyFormat>({ name: 'sha256', secret: (raw) => (VISIBLE_RE.test(raw) ? raw : null) }),
});

/** @internal The legacy formats of one `createTokenAccess`, compiled. */
export interface LegacyLookup {
  /**
   * Runs `fn` on each candidate hash of `raw` (format order, duplicates skipped) until it
   * returns non-null; `undefined` when no format takes `raw` (nothing was hashed or asked).
   */
  first<T>(raw: string, fn: (hash: string) => Promise<T | null>): Promise<T | null> | undefined;
  /** The first hint a format that takes `raw` offers. */
  hint(raw: string): string | undefined;
}

const NAME_RE = /^[a-z0-9_-]{1,32}$/;

/** @internal Validates the `legacy` option; `undefined` when there is nothing to try (the hot path stays as it was). */
export function compileLegacy(provider: CryptoProvider, formats: readonly LegacyFormat[] | undefined): LegacyLookup | undefined {
  if (formats === undefined) return undefined;
  if (!Array.isArray(formats)) throw invalid('legacy must be an array of formats (e.g. [legacyFormats.sanctum])');
  for (const f of formats) {
    if (!f || typeof f !== 'object' || typeof f.name !== 'string' || !NAME_RE.test(f.name)) throw invalid(`each legacy format needs a name matching ${NAME_RE}`);
    if (typeof f.secret !== 'function') throw invalid(`legacy format ${f.name}: secret(raw) must be a function`);
    if (f.hash !== undefined && typeof f.hash !== 'function') throw invalid(`legacy format ${f.name}: hash must be a function`);
    if (f.hint !== undefined && typeof f.hint !== 'function') throw invalid(`legacy format ${f.name}: hint must be a function`);
  }
  if (formats.length === 0) return undefined;
  const list = [...formats];
  const sha256 = (s: string) => provider.sha256Hex(s);

  const matches = (raw: string): { format: LegacyFormat; secret: string }[] => {
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_LEGACY_LENGTH) return [];
    const out: { format: LegacyFormat; secret: string }[] = [];
    for (const format of list) {
      const secret = format.secret(raw);
      if (typeof secret === 'string' && secret !== '') out.push({ format, secret });
    }
    return out;
  };

  return {
    first(raw, fn) {
      const found = matches(raw);
      if (found.length === 0) return undefined;
      return (async () => {
        const seen = new Set<string>();
        for (const { format, secret } of found) {
          const hash = await (format.hash ?? sha256)(secret);
          if (typeof hash !== 'string' || hash === '' || seen.has(hash)) continue;
          seen.add(hash);
          const out = await fn(hash);
          if (out !== null) return out;
        }
        return null;
      })();
    },
    hint(raw) {
      try {
        for (const { format } of matches(raw)) {
          const h = format.hint?.(raw);
          if (typeof h === 'string' && h !== '') return h;
        }
      } catch {
        // a hint is for logs only: a format whose hint (or secret) throws gives none
      }
      return undefined;
    },
  };
}
