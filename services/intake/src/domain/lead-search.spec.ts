import { MAX_PREFIX, planLeadSearch, searchPrefixes, wordsOf } from './lead-search.js';

describe('planLeadSearch', () => {
  it('reads a lead id as that lead, whatever its case', () => {
    expect(planLeadSearch(' 0F8FAD5B-D9CB-469F-A165-70867728950E ')).toEqual({ kind: 'lead-id', leadId: '0f8fad5b-d9cb-469f-a165-70867728950e' });
  });

  it('reads an email address as that contact', () => {
    expect(planLeadSearch('Ada@Example.org')).toEqual({ kind: 'email', email: 'ada@example.org' });
  });

  it('reads anything else as distinct lower-case words split at punctuation, at most five, cut to the stored length', () => {
    expect(planLeadSearch('Ada  Example ada')).toEqual({ kind: 'words', words: ['ada', 'example'] });
    expect(planLeadSearch('ada.lovelace@')).toEqual({ kind: 'words', words: ['ada', 'lovelace'] });
    expect(planLeadSearch('a b c d e f g')).toEqual({ kind: 'words', words: ['a', 'b', 'c', 'd', 'e'] });
    expect(planLeadSearch('x'.repeat(40))).toEqual({ kind: 'words', words: ['x'.repeat(MAX_PREFIX)] });
    expect(planLeadSearch('')).toEqual({ kind: 'words', words: [] });
  });
});

describe('searchPrefixes', () => {
  const prefixes = searchPrefixes({ contact: { email: 'ada.l@example.org', firstName: 'Ada', lastName: 'Lovelace', company: 'Example Corp' } });

  it('holds every beginning of every word of the email, names and company, so any word start matches', () => {
    for (const word of ['a', 'ad', 'ada', 'l', 'love', 'lovelace', 'ex', 'example', 'org', 'c', 'corp']) expect(prefixes).toContain(word);
  });

  it('holds no middle of a word, and nothing of other fields', () => {
    for (const word of ['da', 'velace', 'xample', 'orp', 'ada.l', 'example.org']) expect(prefixes).not.toContain(word);
  });

  it('finds what the planner asks for: each planned word is a stored prefix of the matching lead', () => {
    const plan = planLeadSearch('Love EXAMPLE corp');
    expect(plan.kind === 'words' && plan.words.every((w) => prefixes.includes(w))).toBe(true);
  });

  it('splits values the way the search splits words', () => {
    expect(wordsOf("O'Brien-Smith & Co.")).toEqual(['o', 'brien', 'smith', 'co']);
  });
});
