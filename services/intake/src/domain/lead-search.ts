/**
 * How a marketer's search text is read: a lead id finds that lead; an email address finds its
 * contact; anything else is words, each of which must begin a word of the email, first name, last
 * name or company of the lead (case-insensitive), so "ada corp" finds Ada at Example Corp and
 * "example" her address at example.org.
 *
 * Words are matched against prefixes stored on the contact (searchPrefixes: every beginning of
 * every word of those fields), so a search is an equality on an indexed array rather than a
 * pattern over every contact, which FerretDB evaluates one document at a time (3 s at 10,000
 * leads, measured with bench/console-search.ts).
 */
export type LeadSearch =
  | { kind: 'lead-id'; leadId: string }
  | { kind: 'email'; email: string }
  | { kind: 'words'; words: string[] };

const LEAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** A search is for a person, not a scan: more words than this add nothing but cost. */
const MAX_WORDS = 5;
/** Prefixes are stored up to this length; a longer search word is matched by its beginning. */
export const MAX_PREFIX = 16;
/** Where a word of a name, company or address ends. */
const SEPARATORS = /[\s@._+,;:/&()'"!?<>[\]{}|\\-]+/u;

/** The words of a value as the search sees them: lower-case, split at spaces and punctuation. */
export function wordsOf(value: string): string[] {
  return value.toLowerCase().split(SEPARATORS).filter(Boolean);
}

export function planLeadSearch(query: string): LeadSearch {
  const text = query.trim();
  if (LEAD_ID.test(text)) return { kind: 'lead-id', leadId: text.toLowerCase() };
  if (EMAIL.test(text)) return { kind: 'email', email: text.toLowerCase() };
  const words = [...new Set(wordsOf(text).map((w) => w.slice(0, MAX_PREFIX)))].slice(0, MAX_WORDS);
  return { kind: 'words', words };
}

/** Every beginning of every word of the searched fields of a profile (proto JSON), to store on the contact. */
export function searchPrefixes(profile: { contact?: { email?: string; firstName?: string; lastName?: string; company?: string } }): string[] {
  const c = profile.contact ?? {};
  const prefixes = new Set<string>();
  for (const value of [c.email, c.firstName, c.lastName, c.company]) {
    for (const word of wordsOf(value ?? '')) {
      for (let n = 1; n <= Math.min(word.length, MAX_PREFIX); n++) prefixes.add(word.slice(0, n));
    }
  }
  return [...prefixes];
}
