import { createRequire } from 'node:module';
import countries, { type LocaleData } from 'i18n-iso-countries';

// The package is CommonJS without an "exports" map: its Node entry registers every locale as a side
// effect, its browser entry none. Registering English explicitly keeps name matching working
// whichever entry a bundler picks. The locale is a JSON file, loaded through require because the
// build has no resolveJsonModule and JSON imports need import attributes under ESM.
const require = createRequire(import.meta.url);
countries.registerLocale(require('i18n-iso-countries/langs/en.json') as LocaleData);

const LETTERS = /^[A-Za-z]+$/;

/**
 * The languages whose country names are read through CLDR (Intl.DisplayNames, the data Node ships
 * and updates with ICU): the major languages of the markets a form is likely to be localised for.
 * i18n-iso-countries adds the names of every locale it has registered, and English aliases ("UK").
 */
const CLDR_LANGUAGES = [
  'en', 'de', 'fr', 'es', 'it', 'pt', 'nl', 'sv', 'da', 'nb', 'nn', 'fi', 'is', 'pl', 'cs', 'sk', 'hu', 'ro', 'bg', 'hr',
  'sl', 'sr', 'el', 'tr', 'ru', 'uk', 'et', 'lv', 'lt', 'ca', 'ga', 'cy', 'ar', 'he', 'fa', 'hi', 'bn', 'ja', 'zh-Hans',
  'zh-Hant', 'ko', 'id', 'ms', 'th', 'vi',
];

const LATIN = /^[\p{Script=Latin}\p{M}\p{P}\p{S}\p{N}\s]+$/u;

/**
 * The form a name is looked up by: case, punctuation and spacing do not matter ("St. Lucia",
 * "st lucia"; "Côte d’Ivoire", "Cote d'Ivoire"), and in Latin script neither do accents
 * ("Osterreich" for "Österreich"), since people type names without them. Accents are kept in other
 * scripts, where the marks are vowels and dropping them would merge different names.
 */
function lookupKey(name: string): string {
  let text = name.normalize('NFKC').toLowerCase();
  if (LATIN.test(text)) text = text.normalize('NFKD').replace(/\p{M}/gu, '');
  return text.replace(/[\p{P}\p{S}]/gu, ' ').replace(/\s+/g, ' ').trim();
}

let namesByKey: ReadonlyMap<string, string> | undefined;

/**
 * Every known name of every ISO 3166-1 country, in every language above, to its alpha-2 code.
 * A name that means different countries in different languages or data sets ("Congo") is left
 * out: guessing between them would mangle the lead, so it stays unrecognised and is flagged.
 * Built once, on the first name English does not know (about 0.3 s; most leads never need it).
 */
function allNames(): ReadonlyMap<string, string> {
  if (namesByKey) return namesByKey;
  const codesByKey = new Map<string, Set<string>>();
  const add = (name: string | undefined, code: string) => {
    const key = name === undefined ? '' : lookupKey(name);
    if (key === '') return;
    const codes = codesByKey.get(key) ?? new Set<string>();
    codes.add(code);
    codesByKey.set(key, codes);
  };
  const codes = Object.keys(countries.getAlpha2Codes());
  for (const language of CLDR_LANGUAGES) {
    // fallback "none": a code CLDR has no name for gives undefined, never the code itself.
    const display = new Intl.DisplayNames([language], { type: 'region', fallback: 'none' });
    for (const code of codes) add(display.of(code), code);
  }
  const shortEnglish = new Intl.DisplayNames(['en'], { type: 'region', style: 'short', fallback: 'none' });
  for (const code of codes) add(shortEnglish.of(code), code);
  for (const language of countries.langs()) {
    for (const [code, names] of Object.entries(countries.getNames(language, { select: 'all' }))) for (const name of names) add(name, code);
  }
  const unambiguous = new Map<string, string>();
  for (const [key, found] of codesByKey) if (found.size === 1) unambiguous.set(key, [...found][0]!);
  namesByKey = unambiguous;
  return namesByKey;
}

/**
 * Turns what a form sent as the country into its ISO 3166-1 alpha-2 code: an alpha-2 code ("DE",
 * "de"), an alpha-3 code ("DEU", "USA"), or the country's name in any of the major languages, in
 * any case, with or without accents ("Germany", "Deutschland", "Allemagne", "osterreich", "日本").
 * Returns undefined for an empty value and for anything it does not recognise (a region, a typo, a
 * name shared by two countries); numeric codes are deliberately not accepted, as no form offers
 * them and a number is more likely a typo. Never throws.
 */
export function normaliseCountry(input: string | undefined): string | undefined {
  // Typographic apostrophes come from copy-pasted names ("Côte d’Ivoire"); the locale uses ASCII.
  const text = (input ?? '').normalize('NFC').replace(/\s+/g, ' ').replace(/\u2019/g, "'").trim();
  if (text === '') return undefined;
  if (LETTERS.test(text) && (text.length === 2 || text.length === 3) && countries.isValid(text)) {
    return text.length === 2 ? text.toUpperCase() : countries.alpha3ToAlpha2(text.toUpperCase());
  }
  return countries.getAlpha2Code(text, 'en') ?? allNames().get(lookupKey(text));
}
