import { invalid } from './errors';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Random part: 30 base62 characters = 178 bits from a CSPRNG (at least 160 are required). */
export const RANDOM_LENGTH = 30;
export const CHECKSUM_LENGTH = 6;
const PREFIX_RE = /^[a-z][a-z0-9]{0,15}$/;
// char code → base62 value, 255 for anything else (a typed table: no holes, no bounds surprises)
const BASE62_VALUE = new Uint8Array(65536).fill(255);
for (let i = 0; i < BASE62.length; i++) BASE62_VALUE[BASE62.charCodeAt(i)] = i;

// Signed 32-bit entries, and the running CRC starts at -1 (0xffffffff): the CRC stays a small
// integer to V8 throughout (XOR works on the 32 bits alike), never a double.
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC32 (IEEE) of an ASCII string. */
export function crc32(s: string): number {
  let c = -1;
  for (let i = 0; i < s.length; i++) c = CRC_TABLE[(c ^ s.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function checksum(s: string): string {
  let n = crc32(s);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** Uniform base62 from a CSPRNG: bytes ≥ 248 are rejected, so no character is favoured. */
function randomBase62(length: number): string {
  let out = '';
  const buf = new Uint8Array(length + 16);
  while (out.length < length) {
    globalThis.crypto.getRandomValues(buf);
    for (let i = 0; i < buf.length && out.length < length; i++) if (buf[i]! < 248) out += BASE62[buf[i]! % 62];
  }
  return out;
}

/** @internal Throws `invalid_argument` unless the prefix is 1-16 lower-case letters/digits, starting with a letter. */
export function assertPrefix(prefix: string): void {
  if (!PREFIX_RE.test(prefix)) throw invalid(`prefix must match ${PREFIX_RE} (got ${JSON.stringify(prefix)})`);
}

/**
 * Generates a raw token `<prefix>_<30 random base62><6 base62 CRC32 checksum>`.
 *
 * @example
 * ```ts
 * generateToken('tka'); // 'tka_4fJ0…'
 * ```
 */
export function generateToken(prefix = 'tka'): string {
  assertPrefix(prefix);
  const head = `${prefix}_${randomBase62(RANDOM_LENGTH)}`;
  return head + checksum(head);
}

/**
 * Whether `raw` is well-formed for `prefix`: right prefix, charset, length and checksum. Decides
 * without any store, so garbage never costs a round trip.
 *
 * @example
 * ```ts
 * isWellFormed('tka_nope', 'tka'); // false
 * ```
 */
export function isWellFormed(raw: string, prefix = 'tka'): boolean {
  // Hot path (every request): no slices, no regex, no strings built.
  const p = prefix.length;
  if (typeof raw !== 'string' || raw.length !== p + 1 + RANDOM_LENGTH + CHECKSUM_LENGTH) return false;
  if (raw.charCodeAt(p) !== 95 /* _ */ || !raw.startsWith(prefix)) return false;
  let c = -1;
  const end = raw.length - CHECKSUM_LENGTH;
  for (let i = 0; i < end; i++) {
    const ch = raw.charCodeAt(i);
    if (i > p && BASE62_VALUE[ch] === 255) return false;
    c = CRC_TABLE[(c ^ ch) & 0xff]! ^ (c >>> 8);
  }
  // the checksum read as a base62 number (six digits have one reading), compared with the CRC:
  // multiply-adds, where digit-by-digit `% 62` of a double was a third of this function
  let sum = 0;
  for (let i = end; i < raw.length; i++) {
    const v = BASE62_VALUE[raw.charCodeAt(i)]!;
    if (v === 255) return false;
    sum = sum * 62 + v;
  }
  return sum === ~c >>> 0;
}

/** The UI hint: prefix and the first 4 random characters (`tka_Ab3x`). */
export function tokenHint(raw: string, prefix: string): string {
  return raw.slice(0, prefix.length + 1 + 4);
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = -1;
let lastRandom: number[] = [];

/**
 * A ULID-style public id: 10 characters of millisecond time then 16 of randomness, Crockford
 * base32, so ids sort in creation order (monotonic within a process, even in the same ms).
 *
 * @example
 * ```ts
 * newId(Date.now()); // '01JD3V8Q4Z7K2M5N6P8R9S0T1V'
 * ```
 */
export function newId(now: number): string {
  let random: number[];
  if (now <= lastTime) {
    // same (or earlier, clock went back) ms: increment the previous randomness, keep the time
    now = lastTime;
    random = lastRandom.slice();
    let i = random.length - 1;
    while (i >= 0 && random[i] === 31) random[i--] = 0;
    if (i >= 0) random[i]!++;
  } else {
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
    random = Array.from(bytes, (b) => b & 31);
    random[0]! &= 15; // leave room to increment without overflowing
  }
  lastTime = now;
  lastRandom = random;
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + random.map((r) => CROCKFORD[r]).join('');
}
