// Small readers for config data that arrives as `unknown` (YAML, gRPC owner management). Each one
// names the exact path of a bad value so whoever edits the seed files sees where the mistake is.

export class RoutingConfigError extends Error {
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'RoutingConfigError';
  }
}

export type Fields = Record<string, unknown>;

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value);

// Unknown keys are rejected: a typo such as `grade:` for `grades:` would otherwise silently widen a
// rule to match every lead.
export function readObject(value: unknown, path: string, allowedKeys: readonly string[]): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RoutingConfigError(path, `expected an object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!allowedKeys.includes(key)) {
      throw new RoutingConfigError(`${path}.${key}`, `unknown field (allowed: ${allowedKeys.join(', ')})`);
    }
  }
  return value as Fields;
}

export function readString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new RoutingConfigError(path, `expected a non-empty string, got ${describe(value)}`);
  }
  return value.trim();
}

export function readNumber(value: unknown, path: string, opts: { min?: number; exclusiveMin?: number; integer?: boolean } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RoutingConfigError(path, `expected a number, got ${describe(value)}`);
  }
  if (opts.integer && !Number.isInteger(value)) throw new RoutingConfigError(path, `expected a whole number, got ${value}`);
  if (opts.min !== undefined && value < opts.min) throw new RoutingConfigError(path, `must be at least ${opts.min}, got ${value}`);
  if (opts.exclusiveMin !== undefined && value <= opts.exclusiveMin) {
    throw new RoutingConfigError(path, `must be greater than ${opts.exclusiveMin}, got ${value}`);
  }
  return value;
}

export function readBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new RoutingConfigError(path, `expected true or false, got ${describe(value)}`);
  return value;
}

export function readList(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new RoutingConfigError(path, `expected a list, got ${describe(value)}`);
  return value;
}

export function readStringList(value: unknown, path: string, opts: { nonEmpty?: boolean } = {}): string[] {
  const list = readList(value, path).map((item, i) => readString(item, `${path}[${i}]`));
  if (opts.nonEmpty && list.length === 0) throw new RoutingConfigError(path, 'must not be empty');
  return list;
}

// YAML's default (1.2 core) schema leaves timestamps as strings, gRPC hands over Dates: accept both.
export function readDate(value: unknown, path: string): Date {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new RoutingConfigError(path, `expected an ISO 8601 date-time, got ${JSON.stringify(value)}`);
  }
  return date;
}

export function optional<T>(value: unknown, read: (v: unknown) => T): T | undefined {
  return value === undefined || value === null ? undefined : read(value);
}

export function assertUnique(ids: readonly string[], path: (index: number) => string, what: string): void {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) throw new RoutingConfigError(path(i), `duplicate ${what} "${id}"`);
    seen.add(id);
  });
}
