// Legal-form suffixes, written without dots: "Acme, Inc.", "ACME Inc" and "Acme Incorporated" are
// one account. Words that are also ordinary trailing words of names ("Spa", "As", "Company") are
// left out on purpose: merging "Sunrise Spa" into "Sunrise" would route two accounts as one.
const LEGAL_SUFFIXES = new Set([
  'inc', 'incorporated', 'corp', 'corporation', 'co', 'llc', 'llp', 'lp', 'ltd', 'limited', 'plc',
  'gmbh', 'mbh', 'ag', 'kg', 'kgaa', 'ug', 'se', 'sa', 'sas', 'sarl', 'srl', 'bv', 'nv',
  'oy', 'oyj', 'ab', 'aps', 'pty', 'pte', 'pvt', 'kk', 'sro', 'sl', 'sau',
]);
// Joiners between suffixes ("GmbH & Co. KG"); a dangling one at the end ("Smith &") joins nothing.
const JOINERS = new Set(['&', 'and', '+']);

/**
 * The key under which a company is matched to an existing account: lower case, whitespace
 * collapsed, and legal-form suffixes ("Inc.", "GmbH & Co. KG", "Pty Ltd") removed from the end. The
 * first word is always kept, so "Limited" stays "limited" instead of an empty key that would match
 * every other company. The key is empty only when the name holds nothing but spaces and
 * punctuation, which callers treat as no company at all.
 */
export function companyKey(company: string): string {
  const words = company.normalize('NFC').toLowerCase().split(/[\s,]+/).filter((word) => word !== '');
  while (words.length > 1) {
    const last = words[words.length - 1]!;
    const bare = last.replace(/\./g, '');
    // "S.p.A." only with its dots: bare "Spa" is more often the business than its legal form.
    const isSuffix = LEGAL_SUFFIXES.has(bare) || last.replace(/\.+$/, '') === 's.p.a';
    if (!isSuffix && !JOINERS.has(last) && bare !== '') break;
    words.pop();
  }
  return words.join(' ').replace(/[\s.,]+$/, '');
}
