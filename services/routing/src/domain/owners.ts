import { isCountryCode, isRegionName } from './regions.js';
import {
  RoutingConfigError,
  assertUnique,
  optional,
  readBoolean,
  readDate,
  readList,
  readNumber,
  readObject,
  readString,
  readStringList,
} from './validate.js';

export interface OwnerSegments {
  minCompanySize?: number;
  maxCompanySize?: number;
  industries?: string[];
  products?: string[];
}

export interface WorkingHours {
  /** ISO weekdays, 1 = Monday .. 7 = Sunday, in the owner's time zone. */
  days: number[];
  /** 'HH:MM' local time. */
  start: string;
  /** 'HH:MM' local time, '24:00' allowed; an end before the start means the shift runs past midnight. */
  end: string;
}

export interface OutOfOffice {
  from: Date;
  to: Date;
}

/**
 * The owner's users in the CRMs leadmesh syncs to. crm-sync makes the CRM record's owner this user,
 * so a routing decision is what sales sees in the CRM's owner field.
 */
export interface CrmUserIds {
  /** Salesforce User Id (15 or 18 characters, prefix 005). */
  salesforceUserId?: string;
  /** HubSpot owner id (numeric, from GET /crm/v3/owners). */
  hubspotOwnerId?: string;
}

export interface Owner {
  id: string;
  name: string;
  email: string;
  teamId: string;
  /** ISO country codes or region names (NA, LATAM, EMEA, APAC); empty means worldwide. */
  territories: string[];
  segments?: OwnerSegments;
  /** Relative share of the team's round robin, > 0. */
  weight: number;
  capacityPerDay: number;
  /** IANA time zone, e.g. 'Europe/Berlin'. */
  timeZone: string;
  workingHours: WorkingHours;
  outOfOffice: OutOfOffice[];
  active: boolean;
  crmUserIds?: CrmUserIds;
}

export interface Team {
  id: string;
  name: string;
  /** Minutes an owner has to accept a lead before it is re-routed. */
  slaMinutes: number;
}

export interface Availability {
  available: boolean;
  reason: string;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

// Building a DateTimeFormat is costly and routing asks for the same few zones all day long.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The owner's local weekday (1 = Monday) and minute of the day at `now`. */
export function localTime(timeZone: string, now: Date): { day: number; minute: number; label: string } {
  const parts = formatterFor(timeZone).formatToParts(now);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = part('weekday');
  // Some ICU versions still print midnight as 24 even with h23.
  const hour = Number(part('hour')) % 24;
  const minute = Number(part('minute'));
  const day = WEEKDAYS.indexOf(weekday as (typeof WEEKDAYS)[number]) + 1;
  const label = `${weekday} ${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
  return { day, minute: hour * 60 + minute, label };
}

const toMinutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function describeWorkingHours(hours: WorkingHours): string {
  const days = [...hours.days].sort((a, b) => a - b);
  const contiguous = days.every((d, i) => i === 0 || d === (days[i - 1] ?? 0) + 1);
  const dayText =
    days.length === 7 ? 'every day' : contiguous && days.length > 2 ? `${WEEKDAYS[days[0]! - 1]}-${WEEKDAYS[days.at(-1)! - 1]}` : days.map((d) => WEEKDAYS[d - 1]).join(', ');
  return `${dayText} ${hours.start}-${hours.end}`;
}

function withinWorkingHours(hours: WorkingHours, day: number, minute: number): boolean {
  const start = toMinutes(hours.start);
  const end = toMinutes(hours.end);
  if (start < end) return hours.days.includes(day) && minute >= start && minute < end;
  // Overnight shift: the part after midnight belongs to the previous day's shift.
  const previousDay = day === 1 ? 7 : day - 1;
  return (hours.days.includes(day) && minute >= start) || (hours.days.includes(previousDay) && minute < end);
}

/** Whether the owner can take a new lead right now, and why (not). */
export function isAvailable(owner: Owner, now: Date): Availability {
  if (!owner.active) return { available: false, reason: `${owner.name} is inactive` };
  const away = owner.outOfOffice.find((w) => w.from.getTime() <= now.getTime() && now.getTime() < w.to.getTime());
  if (away) return { available: false, reason: `${owner.name} is out of office until ${away.to.toISOString()}` };
  const local = localTime(owner.timeZone, now);
  const hours = describeWorkingHours(owner.workingHours);
  if (!withinWorkingHours(owner.workingHours, local.day, local.minute)) {
    return { available: false, reason: `${owner.name} is outside working hours (${local.label} in ${owner.timeZone}; works ${hours})` };
  }
  return { available: true, reason: `${owner.name} is within working hours (${local.label} in ${owner.timeZone}; works ${hours})` };
}

const HHMM = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;

function readTimeZone(value: unknown, path: string): string {
  const zone = readString(value, path);
  try {
    formatterFor(zone);
  } catch {
    throw new RoutingConfigError(path, `"${zone}" is not an IANA time zone`);
  }
  return zone;
}

function readTerritory(value: unknown, path: string): string {
  const t = readString(value, path).toUpperCase();
  if (!isCountryCode(t) && !isRegionName(t)) {
    throw new RoutingConfigError(path, `"${t}" is neither an ISO country code nor a region (NA, LATAM, EMEA, APAC)`);
  }
  return t;
}

function readWorkingHours(value: unknown, path: string): WorkingHours {
  const o = readObject(value, path, ['days', 'start', 'end']);
  const days = readList(o.days, `${path}.days`).map((d, i) => readNumber(d, `${path}.days[${i}]`, { integer: true, min: 1 }));
  days.forEach((d, i) => {
    if (d > 7) throw new RoutingConfigError(`${path}.days[${i}]`, `weekday must be 1 (Monday) to 7 (Sunday), got ${d}`);
  });
  if (days.length === 0) throw new RoutingConfigError(`${path}.days`, 'must name at least one weekday');
  const time = (key: 'start' | 'end'): string => {
    const t = readString(o[key], `${path}.${key}`);
    if (!HHMM.test(t)) throw new RoutingConfigError(`${path}.${key}`, `expected HH:MM (00:00 to 24:00), got "${t}"`);
    return t;
  };
  const start = time('start');
  const end = time('end');
  if (toMinutes(start) === toMinutes(end)) throw new RoutingConfigError(path, 'start and end must differ (use 00:00-24:00 for all day)');
  return { days: [...new Set(days)], start, end };
}

function readSegments(value: unknown, path: string): OwnerSegments {
  const o = readObject(value, path, ['minCompanySize', 'maxCompanySize', 'industries', 'products']);
  const size = (key: string) => optional(o[key], (v) => readNumber(v, `${path}.${key}`, { integer: true, min: 0 }));
  const segments: OwnerSegments = {};
  const min = size('minCompanySize');
  const max = size('maxCompanySize');
  if (min !== undefined) segments.minCompanySize = min;
  if (max !== undefined) segments.maxCompanySize = max;
  if (min !== undefined && max !== undefined && min > max) throw new RoutingConfigError(path, `minCompanySize ${min} exceeds maxCompanySize ${max}`);
  const industries = optional(o.industries, (v) => readStringList(v, `${path}.industries`));
  const products = optional(o.products, (v) => readStringList(v, `${path}.products`));
  if (industries) segments.industries = industries;
  if (products) segments.products = products;
  return segments;
}

/** Out-of-office windows, each with "to" after "from". */
export function parseOutOfOffice(value: unknown, path: string): OutOfOffice[] {
  return readList(value, path).map((w, i) => {
    const p = `${path}[${i}]`;
    const wo = readObject(w, p, ['from', 'to']);
    const window = { from: readDate(wo.from, `${p}.from`), to: readDate(wo.to, `${p}.to`) };
    if (window.to.getTime() <= window.from.getTime()) throw new RoutingConfigError(p, '"to" must be after "from"');
    return window;
  });
}

const SALESFORCE_USER_ID = /^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/;
const HUBSPOT_OWNER_ID = /^[0-9]{1,20}$/;

/** `crmUserIds: { salesforceUserId, hubspotOwnerId }`; either may be absent (no user in that CRM). */
function readCrmUserIds(value: unknown, path: string): CrmUserIds {
  const o = readObject(value, path, ['salesforceUserId', 'hubspotOwnerId']);
  const ids: CrmUserIds = {};
  // YAML reads an unquoted HubSpot id as a number; it is an identifier, so it is kept as text.
  const text = (v: unknown, key: string) => (v === '' ? '' : typeof v === 'number' && Number.isInteger(v) ? String(v) : readString(v, `${path}.${key}`));
  const sf = optional(o.salesforceUserId, (v) => text(v, 'salesforceUserId'));
  const hs = optional(o.hubspotOwnerId, (v) => text(v, 'hubspotOwnerId'));
  if (sf !== undefined && sf !== '') {
    if (!SALESFORCE_USER_ID.test(sf)) throw new RoutingConfigError(`${path}.salesforceUserId`, `"${sf}" is not a Salesforce User Id (15 or 18 characters starting with 005)`);
    ids.salesforceUserId = sf;
  }
  if (hs !== undefined && hs !== '') {
    if (!HUBSPOT_OWNER_ID.test(hs)) throw new RoutingConfigError(`${path}.hubspotOwnerId`, `"${hs}" is not a HubSpot owner id (digits)`);
    ids.hubspotOwnerId = hs;
  }
  return ids;
}

export function parseOwner(value: unknown, path: string): Owner {
  const o = readObject(value, path, [
    'id', 'name', 'email', 'teamId', 'territories', 'segments', 'weight', 'capacityPerDay', 'timeZone', 'workingHours', 'outOfOffice', 'active', 'crmUserIds',
  ]);
  const email = readString(o.email, `${path}.email`);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new RoutingConfigError(`${path}.email`, `"${email}" is not an email address`);
  const outOfOffice = optional(o.outOfOffice, (v) => parseOutOfOffice(v, `${path}.outOfOffice`)) ?? [];
  const owner: Owner = {
    id: readString(o.id, `${path}.id`),
    name: readString(o.name, `${path}.name`),
    email,
    teamId: readString(o.teamId, `${path}.teamId`),
    territories: (optional(o.territories, (v) => readList(v, `${path}.territories`)) ?? []).map((t, i) => readTerritory(t, `${path}.territories[${i}]`)),
    weight: readNumber(o.weight, `${path}.weight`, { exclusiveMin: 0 }),
    capacityPerDay: readNumber(o.capacityPerDay, `${path}.capacityPerDay`, { integer: true, min: 0 }),
    timeZone: readTimeZone(o.timeZone, `${path}.timeZone`),
    workingHours: readWorkingHours(o.workingHours, `${path}.workingHours`),
    outOfOffice,
    active: optional(o.active, (v) => readBoolean(v, `${path}.active`)) ?? true,
  };
  const segments = optional(o.segments, (v) => readSegments(v, `${path}.segments`));
  if (segments) owner.segments = segments;
  const crmUserIds = optional(o.crmUserIds, (v) => readCrmUserIds(v, `${path}.crmUserIds`));
  if (crmUserIds && Object.keys(crmUserIds).length > 0) owner.crmUserIds = crmUserIds;
  return owner;
}

export function parseTeam(value: unknown, path: string): Team {
  const o = readObject(value, path, ['id', 'name', 'slaMinutes']);
  return {
    id: readString(o.id, `${path}.id`),
    name: readString(o.name, `${path}.name`),
    slaMinutes: readNumber(o.slaMinutes, `${path}.slaMinutes`, { exclusiveMin: 0 }),
  };
}

export interface OwnerDirectory {
  version: string;
  teams: Team[];
  owners: Owner[];
}

/** Validates the owners seed ({ version, teams, owners }); every owner must belong to a listed team. */
export function parseOwnerDirectory(raw: unknown): OwnerDirectory {
  const o = readObject(raw, 'owners config', ['version', 'teams', 'owners']);
  const teams = readList(o.teams, 'teams').map((t, i) => parseTeam(t, `teams[${i}]`));
  const owners = readList(o.owners, 'owners').map((w, i) => parseOwner(w, `owners[${i}]`));
  assertUnique(teams.map((t) => t.id), (i) => `teams[${i}].id`, 'team id');
  assertUnique(owners.map((w) => w.id), (i) => `owners[${i}].id`, 'owner id');
  const teamIds = new Set(teams.map((t) => t.id));
  owners.forEach((w, i) => {
    if (!teamIds.has(w.teamId)) throw new RoutingConfigError(`owners[${i}].teamId`, `team "${w.teamId}" is not defined under teams`);
  });
  return { version: readString(o.version, 'version'), teams, owners };
}
