/**
 * A strict reader of PHP's `serialize()` output for the one shape Shield stores in
 * `auth_identities.extra`: an array of strings, `a:2:{i:0;s:10:"users-read";i:1;s:1:"x";}`.
 * Anything else (objects, nested arrays, numbers, trailing bytes, a length that does not match)
 * is refused with a reason: never `unserialize` untrusted input in full.
 */

/** A value that is not a PHP-serialised array of strings; `message` says where and why. */
export class PhpSerializeError extends Error {
  override readonly name = 'PhpSerializeError';
}

const fail = (message: string, at: number): never => {
  throw new PhpSerializeError(`${message} at byte ${at}`);
};

/**
 * The values of a serialised PHP array of strings, in order (keys, integer or string, are
 * dropped: Shield's scopes are a list). Lengths are PHP's: bytes of UTF-8.
 *
 * @example
 * ```ts
 * parsePhpStringArray('a:1:{i:0;s:10:"users-read";}'); // ['users-read']
 * ```
 */
export function parsePhpStringArray(input: string): string[] {
  const bytes = Buffer.from(input, 'utf8');
  let pos = 0;
  const expect = (text: string) => {
    for (let i = 0; i < text.length; i++) if (bytes[pos + i] !== text.charCodeAt(i)) fail(`expected ${JSON.stringify(text)}`, pos);
    pos += text.length;
  };
  /** Digits up to `end` (with an optional minus where `signed`). */
  const integer = (end: string, signed: boolean): number => {
    const start = pos;
    if (signed && bytes[pos] === 0x2d) pos++;
    const digits = pos;
    while (pos < bytes.length && bytes[pos]! >= 0x30 && bytes[pos]! <= 0x39) pos++;
    if (pos === digits || pos - digits > 15) fail('expected an integer', start);
    const n = Number(bytes.subarray(start, pos).toString('latin1'));
    expect(end);
    return n;
  };
  const string = (): string => {
    expect('s:');
    const length = integer(':', false);
    expect('"');
    if (pos + length > bytes.length) fail(`a string of ${length} bytes runs past the end`, pos);
    const raw = bytes.subarray(pos, pos + length);
    const text = raw.toString('utf8');
    // a length that cuts a UTF-8 character in two is not what PHP wrote for valid text
    if (!Buffer.from(text, 'utf8').equals(raw)) fail('a string that is not valid UTF-8', pos);
    pos += length;
    expect('";');
    return text;
  };

  expect('a:');
  const count = integer(':', false);
  expect('{');
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    // key: i:<n>; or s:<len>:"…";
    if (bytes[pos] === 0x69 /* i */) {
      expect('i:');
      integer(';', true);
    } else if (bytes[pos] === 0x73 /* s */) string();
    else fail('expected an array key (i: or s:)', pos);
    if (bytes[pos] !== 0x73) fail(`element ${i} is not a string`, pos);
    out.push(string());
  }
  expect('}');
  if (pos !== bytes.length) fail('unexpected data after the array', pos);
  return out;
}

/**
 * What PHP's `serialize()` writes for a list of strings (for tests and tooling that fill a
 * Shield table as Shield would).
 *
 * @example
 * ```ts
 * serializePhpStringArray(['users-read']); // 'a:1:{i:0;s:10:"users-read";}'
 * ```
 */
export function serializePhpStringArray(values: readonly string[]): string {
  return `a:${values.length}:{${values.map((v, i) => `i:${i};s:${Buffer.byteLength(v, 'utf8')}:"${v}";`).join('')}}`;
}
