import type { DocumentReader } from './document-reader.js';
import type { IdRegistry } from './rule-ids.js';
import type { CompanySizeBand, CountryRule, FitRules, FreeMailRule, IndustryRule, KeywordRule } from './rule-set.js';
import { normalizeWords } from './text.js';

// Fit points may be negative (students, competitors' industries), but one rule never outweighs the
// whole 0-100 scale.
const MIN_POINTS = -100;
const MAX_POINTS = 100;
const MAX_COMPANY_SIZE = 10_000_000;

export function readFitRules(reader: DocumentReader, value: unknown, ids: IdRegistry): FitRules | undefined {
  const fit = reader.object(value, 'fit', ['seniority', 'function', 'companySize', 'industries', 'countries', 'freeMail']);
  if (!fit) return undefined;
  const seniority = readKeywordRules(reader, fit.seniority, 'fit.seniority', ids);
  const fn = readKeywordRules(reader, fit.function, 'fit.function', ids);
  const companySize = readCompanySizeBands(reader, fit.companySize, ids);
  const industries = readIndustries(reader, fit.industries, ids);
  const countries = readCountries(reader, fit.countries, ids);
  const freeMail = readFreeMail(reader, fit.freeMail, ids);
  if (!seniority || !fn || !companySize || !industries || !countries || !freeMail) return undefined;
  return { seniority, function: fn, companySize, industries, countries, freeMail };
}

/** Reads a list of rules; the list is undefined if any item was bad (the reader holds why). */
function readList<T>(
  reader: DocumentReader,
  value: unknown,
  path: string,
  readItem: (item: unknown, itemPath: string) => T | undefined,
): T[] | undefined {
  const items = reader.array(value, path);
  if (!items) return undefined;
  const out = items.map((item, i) => readItem(item, `${path}[${i}]`));
  return out.every((r): r is T => r !== undefined) ? out : undefined;
}

/** Records each normalised value's first path, so a value claimed by two rules is reported. */
function uniqueAcrossRules(reader: DocumentReader, what: string) {
  const seen = new Map<string, string>();
  return (key: string, path: string): boolean => {
    const earlier = seen.get(key);
    if (earlier) {
      reader.fail(path, `${what} "${key}" is already used at ${earlier}`);
      return false;
    }
    seen.set(key, path);
    return true;
  };
}

function readKeywordRules(reader: DocumentReader, value: unknown, path: string, ids: IdRegistry): KeywordRule[] | undefined {
  const claim = uniqueAcrossRules(reader, 'keyword');
  return readList(reader, value, path, (item, p) => {
    const rule = reader.object(item, p, ['id', 'label', 'keywords', 'points']);
    if (!rule) return undefined;
    const id = ids.read(rule.id, `${p}.id`);
    const label = reader.string(rule.label, `${p}.label`);
    const keywords = reader.strings(rule.keywords, `${p}.keywords`);
    const points = reader.integer(rule.points, `${p}.points`, MIN_POINTS, MAX_POINTS);
    const keywordsOk = keywords?.every((k, i) => {
      const normalized = normalizeWords(k);
      if (normalized === '') return reader.fail(`${p}.keywords[${i}]`, 'must contain a letter or digit') ?? false;
      return claim(normalized, `${p}.keywords[${i}]`);
    });
    if (!id || !label || !keywords || !keywordsOk || points === undefined) return undefined;
    return { id, label, keywords, points };
  });
}

function readCompanySizeBands(reader: DocumentReader, value: unknown, ids: IdRegistry): CompanySizeBand[] | undefined {
  const path = 'fit.companySize';
  const bands = readList(reader, value, path, (item, p) => {
    const band = reader.object(item, p, ['id', 'label', 'min', 'max', 'points']);
    if (!band) return undefined;
    const id = ids.read(band.id, `${p}.id`);
    const label = reader.string(band.label, `${p}.label`);
    const min = reader.integer(band.min, `${p}.min`, 1, MAX_COMPANY_SIZE);
    const max = band.max === undefined ? undefined : reader.integer(band.max, `${p}.max`, min ?? 1, MAX_COMPANY_SIZE);
    const points = reader.integer(band.points, `${p}.points`, MIN_POINTS, MAX_POINTS);
    if (!id || !label || min === undefined || (band.max !== undefined && max === undefined) || points === undefined) {
      return undefined;
    }
    return max === undefined ? { id, label, min, points } : { id, label, min, max, points };
  });
  if (!bands) return undefined;
  const byMin = bands.map((band, i) => ({ band, p: `${path}[${i}]` })).sort((a, b) => a.band.min - b.band.min);
  let ok = true;
  for (let i = 1; i < byMin.length; i++) {
    const prev = byMin[i - 1]!;
    const next = byMin[i]!;
    if (prev.band.max === undefined || prev.band.max >= next.band.min) {
      ok = reader.fail(next.p, `overlaps the band at ${prev.p}`) ?? false;
    }
  }
  return ok ? bands : undefined;
}

function readIndustries(reader: DocumentReader, value: unknown, ids: IdRegistry): IndustryRule[] | undefined {
  const claim = uniqueAcrossRules(reader, 'industry');
  return readList(reader, value, 'fit.industries', (item, p) => {
    const rule = reader.object(item, p, ['id', 'label', 'industries', 'points']);
    if (!rule) return undefined;
    const id = ids.read(rule.id, `${p}.id`);
    const label = reader.string(rule.label, `${p}.label`);
    const industries = reader.strings(rule.industries, `${p}.industries`);
    const points = reader.integer(rule.points, `${p}.points`, MIN_POINTS, MAX_POINTS);
    const unique = industries?.every((name, i) => claim(normalizeWords(name), `${p}.industries[${i}]`));
    if (!id || !label || !industries || !unique || points === undefined) return undefined;
    return { id, label, industries, points };
  });
}

const COUNTRY_CODE = { regex: /^[A-Z]{2}$/, description: 'an ISO 3166-1 alpha-2 code in capitals like "DE"' };

function readCountries(reader: DocumentReader, value: unknown, ids: IdRegistry): CountryRule[] | undefined {
  const claim = uniqueAcrossRules(reader, 'country');
  return readList(reader, value, 'fit.countries', (item, p) => {
    const rule = reader.object(item, p, ['id', 'label', 'countries', 'points']);
    if (!rule) return undefined;
    const id = ids.read(rule.id, `${p}.id`);
    const label = reader.string(rule.label, `${p}.label`);
    const list = reader.array(rule.countries, `${p}.countries`, 1);
    const countries = list?.map((c, i) => reader.string(c, `${p}.countries[${i}]`, COUNTRY_CODE));
    const valid = countries?.every((c, i): c is string => c !== undefined && claim(c, `${p}.countries[${i}]`));
    const points = reader.integer(rule.points, `${p}.points`, MIN_POINTS, MAX_POINTS);
    if (!id || !label || !countries || !valid || points === undefined) return undefined;
    return { id, label, countries: countries as string[], points };
  });
}

const DOMAIN = { regex: /^[a-z0-9-]+(\.[a-z0-9-]+)+$/, description: 'a lower-case domain like "gmail.com"' };

function readFreeMail(reader: DocumentReader, value: unknown, ids: IdRegistry): FreeMailRule | undefined {
  const p = 'fit.freeMail';
  const rule = reader.object(value, p, ['id', 'points', 'domains']);
  if (!rule) return undefined;
  const id = ids.read(rule.id, `${p}.id`);
  const points = reader.integer(rule.points, `${p}.points`, MIN_POINTS, 0);
  const list = reader.array(rule.domains, `${p}.domains`, 1);
  const domains = list?.map((d, i) => reader.string(d, `${p}.domains[${i}]`, DOMAIN));
  if (!id || points === undefined || !domains || domains.some((d) => d === undefined)) return undefined;
  return { id, points, domains: domains as string[] };
}
