import fc from 'fast-check';
import { isValidVisitorId } from './visitor.js';

describe('isValidVisitorId', () => {
  it('accepts the ids tracking cookies carry', () => {
    for (const id of ['a', 'GA1.2.1234567890.1700000000', 'v_3f2c-9a', 'x'.repeat(128)]) {
      expect(isValidVisitorId(id)).toBe(true);
    }
  });

  it('refuses empty, overlong and anything outside [A-Za-z0-9._-]', () => {
    for (const id of ['', 'x'.repeat(129), 'a b', 'a\nb', 'a/b', '{"$gt":""}', 'visitör', 'a;b']) {
      expect(isValidVisitorId(id)).toBe(false);
    }
  });

  it('accepts exactly the strings of 1 to 128 allowed characters', () => {
    const allowed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-';
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 128, unit: fc.constantFrom(...allowed) }), (id) => {
        expect(isValidVisitorId(id)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (id) => {
        const expected = id.length >= 1 && id.length <= 128 && [...id].every((c) => allowed.includes(c));
        expect(isValidVisitorId(id)).toBe(expected);
      }),
    );
  });
});
