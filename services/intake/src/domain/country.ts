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
 * Turns what a form sent as the country into its ISO 3166-1 alpha-2 code: an alpha-2 code ("DE",
 * "de"), an alpha-3 code ("DEU", "USA") or an English name in any case ("Germany", "united states",
 * "UK"). Returns undefined for an empty value and for anything it does not recognise; numeric codes
 * are deliberately not accepted, as no form offers them and a number is more likely a typo.
 */
export function normaliseCountry(input: string | undefined): string | undefined {
  // Typographic apostrophes come from copy-pasted names ("Côte d’Ivoire"); the locale uses ASCII.
  const text = (input ?? '').normalize('NFC').replace(/\s+/g, ' ').replace(/\u2019/g, "'").trim();
  if (text === '') return undefined;
  if (LETTERS.test(text) && (text.length === 2 || text.length === 3) && countries.isValid(text)) {
    return text.length === 2 ? text.toUpperCase() : countries.alpha3ToAlpha2(text.toUpperCase());
  }
  return countries.getAlpha2Code(text, 'en');
}
