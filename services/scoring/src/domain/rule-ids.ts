import type { DocumentReader } from './document-reader.js';

/** Rule ids the engine itself uses for clamping the scores into 0-100. */
export const FIT_BOUNDS_RULE_ID = 'fit.bounds';
export const ENGAGEMENT_BOUNDS_RULE_ID = 'engagement.bounds';

const ID = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;

/** Rule ids name the reasons on stored scores, so they must be unique within a rule set. */
export class IdRegistry {
  private readonly seen = new Map<string, string>();
  constructor(private readonly reader: DocumentReader) {}

  read(value: unknown, path: string): string | undefined {
    const id = this.reader.string(value, path, {
      regex: ID,
      description: 'a dotted lower-case id like "fit.seniority.vp"',
    });
    if (!id) return undefined;
    if (id === FIT_BOUNDS_RULE_ID || id === ENGAGEMENT_BOUNDS_RULE_ID) {
      return this.reader.fail(path, `"${id}" is reserved for score clamping`);
    }
    const earlier = this.seen.get(id);
    if (earlier) return this.reader.fail(path, `duplicates the id at ${earlier}`);
    this.seen.set(id, path);
    return id;
  }
}
