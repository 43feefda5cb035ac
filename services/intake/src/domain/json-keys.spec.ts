import fc from 'fast-check';
import { findDuplicateKey } from './json-keys.js';

describe('findDuplicateKey', () => {
  it('finds a key given twice at the top level and inside nested objects, with its path', () => {
    expect(findDuplicateKey('{"email":"a","email":"b"}')).toEqual(['email']);
    expect(findDuplicateKey('{"contact":{"email":"a","name":"n","email":"b"}}')).toEqual(['contact', 'email']);
    expect(findDuplicateKey('{"list":[{"x":1},{"x":2,"x":3}]}')).toEqual(['list', '[]', 'x']);
  });

  it('compares keys decoded, whatever their escapes', () => {
    expect(findDuplicateKey('{"email":"a","\\u0065mail":"b"}')).toEqual(['email']);
    expect(findDuplicateKey('{"a\\"b":1,"a\\u0022b":2}')).toEqual(['a"b']);
  });

  it('takes equal keys in different objects, and key-like text inside strings and lists', () => {
    expect(findDuplicateKey('{"contact":{"email":"a"},"source":{"email":"b"},"email":"c"}')).toBeUndefined();
    expect(findDuplicateKey('{"message":"\\"email\\": 1, {\\"email\\": 2}","email":"x"}')).toBeUndefined();
    expect(findDuplicateKey('{"tags":["email","email"],"email":"x"}')).toBeUndefined();
    expect(findDuplicateKey('[1,{"a":1},{"a":2}]')).toBeUndefined();
  });

  it('agrees with JSON.parse on every generated object: a duplicate exactly when keys collapse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // JSON.stringify never writes a key twice.
        expect(findDuplicateKey(JSON.stringify(value))).toBeUndefined();
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.jsonValue(), (object, extra) => {
        const text = JSON.stringify(object);
        const key = Object.keys(object)[0]!;
        const twice = `${text.slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(extra) ?? 'null'}}`;
        expect(findDuplicateKey(twice)).toEqual([key]);
      }),
    );
  });
});
