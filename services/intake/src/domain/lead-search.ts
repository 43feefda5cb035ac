/**
 * How a marketer's search text is read: a lead id finds that lead; anything else is words, each of
 * which must begin a word of the email, first name, last name or company of the lead
 * (case-insensitive), so "ada corp" finds Ada at Example Corp and "example.org" her address.
 */
export type LeadSearch = { kind: 'lead-id'; leadId: string } | { kind: 'words'; words: string[] };

const LEAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A search is for a person, not a scan: more words than this add nothing but cost. */
const MAX_WORDS = 5;

export function planLeadSearch(query: string): LeadSearch {
  const text = query.trim();
  if (LEAD_ID.test(text)) return { kind: 'lead-id', leadId: text.toLowerCase() };
  const words = [...new Set(text.toLowerCase().split(/\s+/).filter(Boolean))].slice(0, MAX_WORDS);
  return { kind: 'words', words };
}

/** The stored profile fields (proto JSON names) a word may begin. */
export const SEARCHED_FIELDS = ['contact.email', 'contact.firstName', 'contact.lastName', 'contact.company'] as const;

/** Where a word of a name, company or address begins: the start, or after a space or punctuation. */
const WORD_START = `(?:^|[\\s@._+,;:/&()'"-])`;

/** A search word as a literal (nothing in it is read as regex syntax) beginning a word, ignoring case. */
export function startsWithPattern(word: string): RegExp {
  return new RegExp(`${WORD_START}${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i');
}
