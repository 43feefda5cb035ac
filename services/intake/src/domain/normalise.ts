import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { companyKey } from './company.js';
import { normaliseCountry } from './country.js';
import type { FieldNotice } from './violations.js';

/** A contact as submitted: any string may be empty, nothing is trusted yet. */
export interface RawContact {
  email: string;
  firstName?: string | undefined;
  lastName?: string | undefined;
  phone?: string | undefined;
  company?: string | undefined;
  jobTitle?: string | undefined;
  country?: string | undefined;
  /** Employee count; 0 means unknown, as in the proto. */
  companySize?: number | undefined;
  industry?: string | undefined;
}

/** The contact intake stores and matches on. */
export interface NormalisedContact {
  email: string;
  /** The part after the last "@"; empty when the address has none. */
  emailDomain: string;
  firstName: string;
  lastName: string;
  /** The phone as typed, trimmed: kept even when it is not a valid number. */
  phone: string;
  /** The phone in E.164 ("+4930123456"), only when it parses as a valid number. */
  phoneE164?: string | undefined;
  company: string;
  /** Lower case, legal suffixes stripped: the key for matching the contact to an account. */
  companyKey: string;
  jobTitle: string;
  /** ISO 3166-1 alpha-2, upper case; undefined when empty or not recognised. */
  country?: string | undefined;
  /** Undefined when unknown (0 in the proto). */
  companySize?: number | undefined;
  industry: string;
}

/**
 * Trims and lower-cases the whole address. Strictly the local part is case-sensitive, but no
 * mailbox provider in use treats it so, while people do type "Jane.Doe@" one day and "jane.doe@"
 * the next: lower-casing is what makes the same person deduplicate to one contact. Nothing else is
 * stripped (no dots, no "+tag"): those rules are provider-specific, and guessing wrong would merge
 * two different people. NFC makes the same visible address one string however it was typed.
 */
export function normaliseEmail(email: string): string {
  return email.normalize('NFC').toLowerCase().normalize('NFC').trim();
}

/** Trims, collapses runs of whitespace to one space and applies Unicode NFC. */
export function normaliseText(text: string | undefined): string {
  return (text ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
}

/**
 * Parses a phone into E.164, reading a national number ("030 1234567") in the contact's country.
 * A phone that cannot be parsed or is not a valid number yields no E.164 form and no violation:
 * people mistype phones, and a bad phone must never lose a lead. Sales still sees what was typed.
 */
export function phoneToE164(phone: string, country: string | undefined): string | undefined {
  if (phone === '') return undefined;
  const defaultCountry = country !== undefined && isSupportedCountry(country) ? country : undefined;
  try {
    // extract: false so that a field holding prose ("call 030 1234 after 5pm") is not half-read.
    const parsed = parsePhoneNumberFromString(phone, { defaultCountry, extract: false });
    return parsed?.isValid() ? parsed.number : undefined;
  } catch {
    return undefined;
  }
}

function knownCompanySize(size: number | undefined): number | undefined {
  return size !== undefined && Number.isSafeInteger(size) && size > 0 ? size : undefined;
}

/** Normalises a contact for storage and matching. Never throws; see contactViolations for rejects. */
export function normaliseContact(raw: RawContact): NormalisedContact {
  const email = normaliseEmail(raw.email);
  const at = email.lastIndexOf('@');
  const company = normaliseText(raw.company);
  const country = normaliseCountry(raw.country);
  const phone = (raw.phone ?? '').trim();
  return {
    email,
    emailDomain: at === -1 ? '' : email.slice(at + 1),
    firstName: normaliseText(raw.firstName),
    lastName: normaliseText(raw.lastName),
    phone,
    phoneE164: phoneToE164(phone, country),
    company,
    companyKey: companyKey(company),
    jobTitle: normaliseText(raw.jobTitle),
    country,
    companySize: knownCompanySize(raw.companySize),
    industry: normaliseText(raw.industry),
  };
}

/**
 * What normalisation could not read in the optional fields, as notices: the lead is kept, the field
 * is left empty on the profile (it means "unknown" downstream, never a wrong value), the value as
 * typed stays on the raw submission, and the notice says which field it was. An optional field
 * never costs a lead: a German form's "Deutschland" or a region such as "Bavaria" is not a broken
 * client but a person, and routing and scoring already treat an empty country as unknown.
 * Descriptions never echo the value, which may be personal and ends up in logs.
 */
export function contactNotices(raw: RawContact): FieldNotice[] {
  const notices: FieldNotice[] = [];
  if (normaliseText(raw.country) !== '' && normaliseCountry(raw.country) === undefined) {
    notices.push({
      field: 'contact.country',
      description: 'is not a country code or a country name intake recognises; kept as typed on the submission, left empty on the profile',
    });
  }
  const size = raw.companySize;
  if (size !== undefined && size !== 0 && knownCompanySize(size) === undefined) {
    notices.push({ field: 'contact.company_size', description: 'is not a whole number of employees; left unknown' });
  }
  return notices;
}
