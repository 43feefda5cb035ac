import { planLeadSearch, startsWithPattern } from './lead-search.js';

describe('planLeadSearch', () => {
  it('reads a lead id as that lead, whatever its case', () => {
    expect(planLeadSearch(' 0F8FAD5B-D9CB-469F-A165-70867728950E ')).toEqual({ kind: 'lead-id', leadId: '0f8fad5b-d9cb-469f-a165-70867728950e' });
  });

  it('reads anything else as distinct lower-case words, at most five', () => {
    expect(planLeadSearch('Ada  Example ada')).toEqual({ kind: 'words', words: ['ada', 'example'] });
    expect(planLeadSearch('a b c d e f g')).toEqual({ kind: 'words', words: ['a', 'b', 'c', 'd', 'e'] });
    expect(planLeadSearch('ada@example.org')).toEqual({ kind: 'words', words: ['ada@example.org'] });
  });
});

describe('startsWithPattern', () => {
  it('matches the start of any word of a value, ignoring case, not its middle', () => {
    expect(startsWithPattern('exam').test('Example Corp')).toBe(true);
    expect(startsWithPattern('corp').test('Example Corp')).toBe(true);
    expect(startsWithPattern('org').test('ada@example.org')).toBe(true);
    expect(startsWithPattern('xample').test('Example Corp')).toBe(false);
    expect(startsWithPattern('orp').test('Example Corp')).toBe(false);
  });

  it('treats regex syntax as literal text', () => {
    expect(startsWithPattern('a.b+').test('a.b+c')).toBe(true);
    expect(startsWithPattern('a.b+').test('axbb')).toBe(false);
    expect(startsWithPattern('.*').test('anything')).toBe(false);
  });
});
