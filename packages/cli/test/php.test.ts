import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhpSerializeError, parsePhpStringArray, serializePhpStringArray } from '../src/import/php';

/** The strict reader of Shield's `extra` column (PHP `serialize($scopes)`). */
describe('parsePhpStringArray', () => {
  it('reads what PHP writes for a list of strings, lengths in UTF-8 bytes', () => {
    expect(parsePhpStringArray('a:0:{}')).toEqual([]);
    expect(parsePhpStringArray('a:1:{i:0;s:1:"*";}')).toEqual(['*']);
    expect(parsePhpStringArray('a:2:{i:0;s:10:"users-read";i:1;s:11:"users-write";}')).toEqual(['users-read', 'users-write']);
    // keys left by array_filter, and string keys
    expect(parsePhpStringArray('a:2:{i:3;s:1:"a";s:3:"key";s:1:"b";}')).toEqual(['a', 'b']);
    // "café" is 5 bytes; a quote inside a string is read by length, not by delimiter
    expect(parsePhpStringArray('a:2:{i:0;s:5:"café";i:1;s:3:"a";";}')).toEqual(['café', 'a";']);
  });

  it('refuses everything else with where and why', () => {
    const bad: [string, RegExp][] = [
      ['', /expected "a:" at byte 0/],
      ['s:5:"users";', /expected "a:" at byte 0/],
      ['a:2:{i:0;s:5:"users";', /expected an array key/],
      ['a:1:{i:0;s:6:"users";}', /expected "\\";" at byte/],
      ['a:1:{i:0;s:50:"users";}', /runs past the end/],
      ['a:1:{i:0;i:5;}', /element 0 is not a string/],
      ['a:1:{i:0;a:0:{}}', /element 0 is not a string/],
      ['a:1:{i:0;O:8:"stdClass":0:{}}', /element 0 is not a string/],
      ['a:1:{i:0;s:1:"x";}trailing', /unexpected data after the array/],
      ['a:-1:{}', /expected an integer/],
      ['a:1:{i:0;s:4:"caf\u00e9";}', /not valid UTF-8/],
    ];
    for (const [input, reason] of bad) {
      expect(() => parsePhpStringArray(input), input).toThrow(PhpSerializeError);
      expect(() => parsePhpStringArray(input), input).toThrow(reason);
    }
  });

  it('round-trips any list of strings (property)', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }), { maxLength: 12 }), (list) => {
      expect(parsePhpStringArray(serializePhpStringArray(list))).toEqual(list);
    }));
  });

  it('never throws anything but PhpSerializeError on arbitrary input (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (input) => {
      try {
        parsePhpStringArray(input);
      } catch (err) {
        expect(err).toBeInstanceOf(PhpSerializeError);
      }
    }));
  });
});
