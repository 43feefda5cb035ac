// A track is versioned data kept in Git (services/nurture/tracks/*.yaml): which leads enter it,
// what makes them leave, and which emails go out when. parseTrack is the single gate from loose
// YAML to a Track, so every rule downstream can trust the shape and the invariants below.

export const TRACK_KINDS = ['TRANSACTIONAL', 'MARKETING', 'SALES_ASSIST'] as const;
export type TrackKind = (typeof TRACK_KINDS)[number];

export const LIFECYCLE_STAGES = ['LEAD', 'MQL'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** Offset of a step from the moment of enrollment (not from the previous step). */
export interface StepDelay {
  days?: number;
  hours?: number;
  minutes?: number;
}

export interface TrackStep {
  id: string;
  delay: StepDelay;
  /** Name of a template in services/nurture/templates. */
  template: string;
  /**
   * The subject line that is sent (a Handlebars template). It lives on the step rather than only
   * on the template so two tracks can share a body with different subject lines.
   */
  subject: string;
}

export interface TrackEntry {
  /** Full grades ('A1') or fit letters ('A', meaning any engagement digit). */
  grades?: string[];
  stages?: LifecycleStage[];
  /** Product interest, compared case-insensitively. */
  products?: string[];
  /** Compared case-insensitively with the lead's utm_source and its form id. */
  sources?: string[];
  routedToSales?: boolean;
}

export interface TrackExit {
  onRoutedToSales?: boolean;
  onMql?: boolean;
  onUnsubscribe: true;
  onBounce: true;
  onReply?: boolean;
}

export interface Track {
  id: string;
  /** Tracks change over time; enrollments record the version they were planned from. */
  version: string;
  name: string;
  kind: TrackKind;
  entry: TrackEntry;
  exit: TrackExit;
  /** Higher wins when several tracks match a lead. */
  priority: number;
  steps: TrackStep[];
}

/** Bad track data, naming the path of the offending field (e.g. `steps[1].delay.days`). */
export class TrackError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path || 'track'}: ${problem}`);
    this.name = 'TrackError';
  }
}

// Slugs double as file names (templates) and as stored keys (enrollments), so keep them plain.
const SLUG = /^[a-z0-9][a-z0-9-]*$/;
const GRADE = /^[A-D][1-4]?$/;

type Obj = Record<string, unknown>;

function object(value: unknown, path: string, allowed: readonly string[]): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TrackError(path, `must be a mapping, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    // A misspelt key would silently widen a track's audience or drop an exit rule.
    if (!allowed.includes(key)) throw new TrackError(join(path, key), `unknown field (allowed: ${allowed.join(', ')})`);
  }
  return value as Obj;
}

function text(value: unknown, path: string, pattern?: RegExp, hint?: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TrackError(path, `must be a non-empty string, got ${describe(value)}`);
  if (pattern && !pattern.test(value)) throw new TrackError(path, `must be ${hint}, got ${JSON.stringify(value)}`);
  return value;
}

function optionalList<T extends string>(value: unknown, path: string, item: (v: unknown, p: string) => T): T[] | undefined {
  if (value === undefined) return undefined;
  // An empty list would match nobody, which is never what the author meant.
  if (!Array.isArray(value) || value.length === 0) throw new TrackError(path, `must be a non-empty list, got ${describe(value)}`);
  return value.map((v, i) => item(v, `${path}[${i}]`));
}

function optionalBool(value: unknown, path: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new TrackError(path, `must be true or false, got ${describe(value)}`);
  return value;
}

function integer(value: unknown, path: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new TrackError(path, `must be an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function parseEntry(raw: unknown, path: string): TrackEntry {
  const o = object(raw ?? {}, path, ['grades', 'stages', 'products', 'sources', 'routedToSales']);
  const entry: TrackEntry = {};
  const grades = optionalList(o.grades, join(path, 'grades'), (v, p) => text(v, p, GRADE, "a grade such as 'A1' or a fit letter such as 'A'"));
  const stages = optionalList(o.stages, join(path, 'stages'), (v, p) => {
    if (!LIFECYCLE_STAGES.includes(v as LifecycleStage)) throw new TrackError(p, `must be one of ${LIFECYCLE_STAGES.join(', ')}, got ${describe(v)}`);
    return v as LifecycleStage;
  });
  const products = optionalList(o.products, join(path, 'products'), (v, p) => text(v, p));
  const sources = optionalList(o.sources, join(path, 'sources'), (v, p) => text(v, p));
  const routedToSales = optionalBool(o.routedToSales, join(path, 'routedToSales'));
  if (grades) entry.grades = grades;
  if (stages) entry.stages = stages;
  if (products) entry.products = products;
  if (sources) entry.sources = sources;
  if (routedToSales !== undefined) entry.routedToSales = routedToSales;
  return entry;
}

function parseExit(raw: unknown, path: string): TrackExit {
  const o = object(raw, path, ['onRoutedToSales', 'onMql', 'onUnsubscribe', 'onBounce', 'onReply']);
  // No track may keep mailing someone who unsubscribed or whose address bounces.
  if (o.onUnsubscribe !== true) throw new TrackError(join(path, 'onUnsubscribe'), 'must be true: every track stops when the person unsubscribes');
  if (o.onBounce !== true) throw new TrackError(join(path, 'onBounce'), 'must be true: every track stops when the address bounces');
  const exit: TrackExit = { onUnsubscribe: true, onBounce: true };
  const onRoutedToSales = optionalBool(o.onRoutedToSales, join(path, 'onRoutedToSales'));
  const onMql = optionalBool(o.onMql, join(path, 'onMql'));
  const onReply = optionalBool(o.onReply, join(path, 'onReply'));
  if (onRoutedToSales !== undefined) exit.onRoutedToSales = onRoutedToSales;
  if (onMql !== undefined) exit.onMql = onMql;
  if (onReply !== undefined) exit.onReply = onReply;
  return exit;
}

function parseStep(raw: unknown, path: string): TrackStep {
  const o = object(raw, path, ['id', 'delay', 'template', 'subject']);
  const d = object(o.delay, join(path, 'delay'), ['days', 'hours', 'minutes']);
  const delay: StepDelay = {};
  for (const unit of ['days', 'hours', 'minutes'] as const) {
    if (d[unit] !== undefined) delay[unit] = integer(d[unit], join(join(path, 'delay'), unit), 0);
  }
  const subject = text(o.subject, join(path, 'subject'));
  if (/[\r\n]/.test(subject)) throw new TrackError(join(path, 'subject'), 'must be one line: a line break in a subject is a header injection');
  return {
    id: text(o.id, join(path, 'id'), SLUG, 'a lowercase slug such as "day-3"'),
    delay,
    template: text(o.template, join(path, 'template'), SLUG, 'a lowercase template name such as "nurture-welcome"'),
    subject,
  };
}

/** Minutes from enrollment; shared by the ordering check here and by the scheduler. */
export function delayMinutes(delay: StepDelay): number {
  return (delay.days ?? 0) * 24 * 60 + (delay.hours ?? 0) * 60 + (delay.minutes ?? 0);
}

function parseSteps(raw: unknown, path: string): TrackStep[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new TrackError(path, `must be a non-empty list of steps, got ${describe(raw)}`);
  const steps = raw.map((s, i) => parseStep(s, `${path}[${i}]`));
  const seen = new Set<string>();
  steps.forEach((step, i) => {
    if (seen.has(step.id)) throw new TrackError(`${path}[${i}].id`, `duplicate step id ${JSON.stringify(step.id)}`);
    seen.add(step.id);
    const previous = steps[i - 1];
    // Delays are offsets from enrollment, so a step listed later must not be due earlier.
    if (previous && delayMinutes(step.delay) < delayMinutes(previous.delay)) {
      throw new TrackError(`${path}[${i}].delay`, `is due before the previous step ${JSON.stringify(previous.id)}; delays count from enrollment`);
    }
  });
  return steps;
}

/** Turns loose data (parsed YAML) into a Track, or throws a TrackError naming the bad field. */
export function parseTrack(raw: unknown, where = ''): Track {
  const p = (key: string) => join(where, key);
  const o = object(raw, where, ['id', 'version', 'name', 'kind', 'entry', 'exit', 'priority', 'steps']);
  const id = text(o.id, p('id'), SLUG, 'a lowercase slug such as "marketing-nurture-general"');
  // YAML reads `version: 2` as a number; accept that, but not 1.10, which YAML would turn into 1.1.
  const version = Number.isInteger(o.version) && (o.version as number) > 0 ? String(o.version) : text(o.version, p('version'));
  const name = text(o.name, p('name'));
  if (!TRACK_KINDS.includes(o.kind as TrackKind)) throw new TrackError(p('kind'), `must be one of ${TRACK_KINDS.join(', ')}, got ${describe(o.kind)}`);
  const kind = o.kind as TrackKind;
  const entry = parseEntry(o.entry, p('entry'));
  const exit = parseExit(o.exit, p('exit'));
  if (kind === 'SALES_ASSIST' && entry.routedToSales !== true) {
    throw new TrackError(p('entry.routedToSales'), 'must be true for a SALES_ASSIST track: sales assist is for leads routed to sales');
  }
  if (kind === 'MARKETING' && entry.routedToSales === true) {
    throw new TrackError(p('entry.routedToSales'), 'must not be true for a MARKETING track: a lead routed to sales leaves marketing nurture');
  }
  if (kind === 'MARKETING' && exit.onRoutedToSales === false) {
    throw new TrackError(p('exit.onRoutedToSales'), 'must not be false for a MARKETING track: a lead routed to sales leaves marketing nurture');
  }
  if (!Number.isSafeInteger(o.priority)) throw new TrackError(p('priority'), `must be an integer (higher wins), got ${describe(o.priority)}`);
  const priority = o.priority as number;
  return { id, version, name, kind, entry, exit, priority, steps: parseSteps(o.steps, p('steps')) };
}
