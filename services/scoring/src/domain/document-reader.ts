// Reads an untrusted parsed document (YAML, JSON) field by field, recording every problem with the
// exact path of the bad value, so a rule-set author sees all mistakes at once instead of one per run.
export class DocumentReader {
  readonly issues: string[] = [];

  fail(path: string, message: string): undefined {
    this.issues.push(`${path}: ${message}`);
    return undefined;
  }

  /** A mapping with exactly the allowed keys; unknown keys are errors because they are usually typos. */
  object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail(path, 'must be a mapping');
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) this.fail(join(path, key), 'unknown field');
    }
    return record;
  }

  array(value: unknown, path: string, minItems = 0): unknown[] | undefined {
    if (!Array.isArray(value)) return this.fail(path, 'must be a list');
    if (value.length < minItems) return this.fail(path, `must have at least ${minItems} item(s)`);
    return value;
  }

  string(value: unknown, path: string, pattern?: { regex: RegExp; description: string }): string | undefined {
    if (typeof value !== 'string' || value.trim() === '') return this.fail(path, 'must be a non-empty string');
    if (pattern && !pattern.regex.test(value)) return this.fail(path, `must be ${pattern.description}`);
    return value;
  }

  integer(value: unknown, path: string, min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value)) return this.fail(path, 'must be an integer');
    if (value < min || value > max) return this.fail(path, `must be between ${min} and ${max}`);
    return value;
  }

  strings(value: unknown, path: string, minItems = 1): string[] | undefined {
    const items = this.array(value, path, minItems);
    if (!items) return undefined;
    const out = items.map((item, i) => this.string(item, `${path}[${i}]`));
    return out.every((s): s is string => s !== undefined) ? out : undefined;
  }
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
