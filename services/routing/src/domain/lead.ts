/** What routing needs to know about a lead: its profile plus the grade and stage scoring gave it. */
export interface RoutingLead {
  email: string;
  /** ISO 3166-1 alpha-2, as intake normalises it. */
  country?: string;
  companySize?: number;
  industry?: string;
  product?: string;
  formId?: string;
  utmSource?: string;
  /** Scoring's grade, e.g. 'A1'. */
  grade?: string;
  stage?: LifecycleStage;
}

export type LifecycleStage = 'LEAD' | 'MQL';
export const LIFECYCLE_STAGES: readonly LifecycleStage[] = ['LEAD', 'MQL'];

export const sameText = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

export class InvalidLeadError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'InvalidLeadError';
  }
}
