// HubSpot CRM v3, written from HubSpot's documentation:
//   upsert  POST /crm/v3/objects/contacts/batch/upsert, inputs keyed by email (idProperty), also for one
//   erase   POST /crm/v3/objects/contacts/gdpr-delete {objectId} (permanent); the contacts are the id
//           crm-sync knows and those our lead id property finds (POST /crm/v3/objects/contacts/search)
//   member  PUT /crm/v3/lists/{listId}/memberships/add [recordId] (a MANUAL list stands for the campaign)
//   read    GET /crm/v3/objects/contacts/{id}?properties=a,b (the values sales may have changed)
//   changes POST /crm/v3/objects/contacts/search, lastmodifieddate GT the watermark, sorted ascending
//   auth    private-app token as Bearer; limits per 10-second window and per day
import { accountDomains, type CrmAccountSeen } from '../domain/crm-accounts.js';
import type { CrmRecordSeen } from '../domain/crm-changes.js';
import {
  CrmRateLimitedError,
  CrmUnavailableError,
  CrmValidationError,
  type CrmBatchItem,
  type CrmBatchResult,
  type CrmError,
  type CrmPort,
  type CrmUpsertResult,
  type CampaignMemberResult,
} from './crm-port.js';
import { describeBody, exchange, type FetchLike, type HttpAnswer } from './http.js';
import { RequestBudget, type RequestBudgetOptions } from './request-budget.js';
import { ResilientExecutor, parseRetryAfter, type CrmEventListener, type ResilienceOptions } from './resilience.js';

export interface HubspotOptions extends RequestBudgetOptions {
  baseUrl: string;
  /** Private app access token. */
  token: string;
  /** The contact property holding our lead id, used to find a contact for deletion. */
  leadIdProperty: string;
  /** HubSpot batch endpoints take at most 100 inputs. */
  batchSize: number;
  resilience: ResilienceOptions;
  fetch?: FetchLike;
  onEvent?: CrmEventListener;
}

interface HubspotResult {
  id?: string;
  new?: boolean;
  properties?: Record<string, string | null>;
}

const CRM = 'hubspot';
type Outcome = Omit<CrmBatchResult, 'leadId'>;

export class HubspotAdapter implements CrmPort {
  readonly name = CRM;
  readonly #options: HubspotOptions;
  readonly #budget: RequestBudget;
  readonly #exec: ResilientExecutor;
  readonly #fetch: FetchLike;

  constructor(options: HubspotOptions) {
    if (options.batchSize < 1 || options.batchSize > 100) throw new Error('batchSize must be between 1 and 100 (HubSpot batch limit)');
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#budget = new RequestBudget(CRM, options);
    this.#exec = new ResilientExecutor(CRM, options.resilience, {
      beforeAttempt: () => this.#budget.acquire(),
      ...(options.onEvent && { onEvent: options.onEvent }),
    });
  }

  get breakerState() {
    return this.#exec.breakerState;
  }

  async upsertLead(leadId: string, fields: Record<string, unknown>): Promise<CrmUpsertResult> {
    const [result] = await this.upsertLeads([{ leadId, fields }]);
    if (result?.error) throw result.error;
    if (!result?.crmId) throw new CrmUnavailableError(CRM, `HubSpot returned no contact for lead ${leadId}`);
    return { crmId: result.crmId, created: result.created ?? false };
  }

  async upsertLeads(batch: CrmBatchItem[]): Promise<CrmBatchResult[]> {
    const outcome = new Map<CrmBatchItem, Outcome>();
    // HubSpot refuses the same id twice in one call; the same email is one contact, the last fields win.
    const byEmail = new Map<string, CrmBatchItem[]>();
    for (const item of batch) {
      const email = emailOf(item.fields);
      if (!email) {
        outcome.set(item, { error: new CrmValidationError(CRM, `lead ${item.leadId} has no email, the property HubSpot upserts by`, { code: 'MISSING_EMAIL', fields: ['email'] }) });
        continue;
      }
      byEmail.set(email, [...(byEmail.get(email) ?? []), item]);
    }
    const unique = [...byEmail.entries()].map(([email, items]) => ({ email, item: items.at(-1) as CrmBatchItem, items }));
    for (let i = 0; i < unique.length; i += this.#options.batchSize) {
      const chunk = unique.slice(i, i + this.#options.batchSize);
      const results = await this.#upsertChunk(chunk.map((c) => ({ email: c.email, item: c.item })));
      chunk.forEach((c, k) => c.items.forEach((item) => outcome.set(item, results[k] as Outcome)));
    }
    return batch.map((item) => ({ leadId: item.leadId, ...outcome.get(item) }));
  }

  async addCampaignMember(crmId: string, campaignId: string): Promise<CampaignMemberResult> {
    const answer = await this.#call('PUT', `/crm/v3/lists/${encodeURIComponent(campaignId)}/memberships/add`, [crmId]);
    if (answer.status !== 200) throw this.#refusal(answer, `list membership of contact ${crmId} in list ${campaignId}`);
    // HubSpot's documented answer spells it recordsIdsAdded; members already in the list are ignored.
    const body = answer.body as { recordsIdsAdded?: string[]; recordIdsAdded?: string[]; recordIdsMissing?: string[] } | undefined;
    if (body?.recordIdsMissing?.includes(crmId)) {
      throw new CrmValidationError(CRM, `HubSpot refused list membership of contact ${crmId} in list ${campaignId}: the contact is missing`, { status: 200, code: 'RECORD_MISSING' });
    }
    const added = body?.recordsIdsAdded ?? body?.recordIdsAdded ?? [];
    return { already: !added.includes(crmId) };
  }

  /** HubSpot contacts are not converted into another record: there is nothing to follow. */
  async convertedTo(): Promise<undefined> {
    return undefined;
  }

  async updateContact(contactId: string): Promise<void> {
    throw new CrmValidationError(CRM, `HubSpot has no converted records; contact ${contactId} is updated by upsert`, { code: 'NOT_SUPPORTED' });
  }

  async changedSince(since: Date, fields: string[], limit: number): Promise<CrmRecordSeen[]> {
    const seen: CrmRecordSeen[] = [];
    // GTE the watermark: a contact modified in the watermark's own millisecond after the last poll
    // still comes; those seen already are recognised by their stamp. The search API reads dates as
    // milliseconds since the epoch and pages by `after`, at most 200 a page.
    for (let after: string | undefined = '0'; after !== undefined && seen.length < limit; ) {
      const answer = await this.#call('POST', '/crm/v3/objects/contacts/search', {
        filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(since.getTime()) }] }],
        sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
        properties: [...new Set([this.#options.leadIdProperty, 'lastmodifieddate', ...fields])],
        limit: Math.min(limit - seen.length, 200),
        ...(after !== '0' && { after }),
      });
      if (answer.status !== 200) throw this.#refusal(answer, 'the search for modified contacts');
      const body = answer.body as { results?: HubspotResult[]; paging?: { next?: { after?: string } } } | undefined;
      seen.push(...(body?.results ?? []).flatMap((r) => (r.id ? [this.#seen(r.id, r.properties ?? {}, fields)] : [])));
      after = body?.paging?.next?.after;
    }
    return seen.slice(0, limit);
  }

  async accountsChangedSince(since: Date, limit: number): Promise<CrmAccountSeen[]> {
    // Companies carry their modification stamp in hs_lastmodifieddate (contacts: lastmodifieddate).
    const seen: CrmAccountSeen[] = [];
    for (let after: string | undefined = '0'; after !== undefined && seen.length < limit; ) {
      const answer = await this.#call('POST', '/crm/v3/objects/companies/search', {
        filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: String(since.getTime()) }] }],
        sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
        properties: ['name', 'domain', 'hs_additional_domains', 'hubspot_owner_id', 'hs_lastmodifieddate'],
        limit: Math.min(limit - seen.length, 200),
        ...(after !== '0' && { after }),
      });
      if (answer.status !== 200) throw this.#refusal(answer, 'the search for modified companies');
      const body = answer.body as { results?: HubspotResult[]; paging?: { next?: { after?: string } } } | undefined;
      for (const r of body?.results ?? []) {
        if (!r.id) continue;
        const p = r.properties ?? {};
        const stamp = p.hs_lastmodifieddate;
        seen.push({
          accountId: r.id,
          name: p.name ?? '',
          domains: accountDomains(p.domain, p.hs_additional_domains),
          crmOwnerId: p.hubspot_owner_id ?? '',
          modifiedAt: new Date(stamp && /^\d+$/.test(stamp) ? Number(stamp) : String(stamp)),
        });
      }
      after = body?.paging?.next?.after;
    }
    return seen.slice(0, limit);
  }

  async readChanged(crmId: string, fields: string[]): Promise<CrmRecordSeen> {
    return this.#seen(crmId, await this.readLead(crmId, [...new Set([this.#options.leadIdProperty, 'lastmodifieddate', ...fields])]), fields);
  }

  #seen(crmId: string, properties: Record<string, unknown>, fields: string[]): CrmRecordSeen {
    const leadId = properties[this.#options.leadIdProperty];
    return {
      crmId,
      ...(typeof leadId === 'string' && leadId !== '' && { leadId }),
      values: Object.fromEntries(fields.map((f) => [f, properties[f] ?? null])),
      modifiedAt: new Date(String(properties.lastmodifieddate)),
    };
  }

  async probe(): Promise<void> {
    const answer = await this.#call('GET', '/crm/v3/objects/contacts?limit=1&properties=email');
    if (answer.status !== 200) throw this.#refusal(answer, 'the availability probe');
  }

  async readLead(crmId: string, fields: string[]): Promise<Record<string, unknown>> {
    const answer = await this.#call('GET', `/crm/v3/objects/contacts/${encodeURIComponent(crmId)}?properties=${fields.map(encodeURIComponent).join(',')}`);
    const properties = (answer.body as HubspotResult | undefined)?.properties;
    if (answer.status !== 200 || !properties) throw this.#refusal(answer, `read of contact ${crmId}`);
    return Object.fromEntries(fields.map((f) => [f, properties[f] ?? null]));
  }

  /**
   * Erasure, for good: HubSpot's GDPR delete removes the contact and its associated content; a
   * DELETE only archives it, restorable for 90 days. The contacts are the one crm-sync knows and
   * those our lead id property finds, so a contact a late write created again goes too. An id
   * HubSpot no longer knows (404) is already gone: erasure must be repeatable.
   */
  async deleteLead(leadId: string, crmId?: string): Promise<void> {
    const ids = new Set(crmId ? [crmId] : []);
    for (const id of await this.#findByLeadId(leadId)) ids.add(id);
    for (const id of ids) {
      const answer = await this.#call('POST', '/crm/v3/objects/contacts/gdpr-delete', { objectId: id });
      if (answer.status !== 204 && answer.status !== 200 && answer.status !== 404) throw this.#refusal(answer, `GDPR delete of lead ${leadId}`);
    }
  }

  async #upsertChunk(chunk: Array<{ email: string; item: CrmBatchItem }>): Promise<Outcome[]> {
    let answer: HttpAnswer;
    try {
      answer = await this.#call('POST', '/crm/v3/objects/contacts/batch/upsert', {
        inputs: chunk.map(({ email, item }) => ({ idProperty: 'email', id: email, properties: toProperties(item.fields, email) })),
      });
    } catch (err) {
      return chunk.map(() => ({ error: err as CrmError }));
    }
    if (answer.status >= 400) {
      const error = this.#refusal(answer, chunk.length === 1 ? `lead ${chunk[0]?.item.leadId}` : `a batch of ${chunk.length} contacts`);
      // A whole batch refused for one bad contact: send them one by one to find which.
      if (chunk.length > 1 && error instanceof CrmValidationError) return this.#oneByOne(chunk);
      return chunk.map(() => ({ error }));
    }
    const results = ((answer.body as { results?: HubspotResult[] } | undefined)?.results ?? []);
    const byEmail = new Map(results.map((r) => [r.properties?.email?.toLowerCase(), r]));
    const outcomes = chunk.map(({ email }, k): Outcome | undefined => {
      const r = byEmail.get(email) ?? (results.length === chunk.length && answer.status !== 207 ? results[k] : undefined);
      return r?.id ? { crmId: r.id, created: r.new === true } : undefined;
    });
    // 207: some inputs failed; their errors do not reliably say which input, so ask for each alone.
    if (outcomes.every((o) => o !== undefined)) return outcomes as Outcome[];
    if (chunk.length === 1) return [{ error: this.#refusal(answer, `lead ${chunk[0]?.item.leadId}`) }];
    const retried = await this.#oneByOne(chunk.filter((_, k) => outcomes[k] === undefined));
    return outcomes.map((o) => o ?? (retried.shift() as Outcome));
  }

  async #oneByOne(chunk: Array<{ email: string; item: CrmBatchItem }>): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const entry of chunk) out.push(...(await this.#upsertChunk([entry])));
    return out;
  }

  async #findByLeadId(leadId: string): Promise<string[]> {
    const answer = await this.#call('POST', '/crm/v3/objects/contacts/search', {
      filterGroups: [{ filters: [{ propertyName: this.#options.leadIdProperty, operator: 'EQ', value: leadId }] }],
      properties: ['email'],
      limit: 100,
    });
    if (answer.status !== 200) throw this.#refusal(answer, `search for lead ${leadId}`);
    return ((answer.body as { results?: HubspotResult[] } | undefined)?.results ?? []).flatMap((r) => (r.id ? [r.id] : []));
  }

  #call(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    return this.#exec.run(async (signal) => {
      const answer = await exchange(CRM, this.#fetch, `${this.#options.baseUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#options.token}`,
          accept: 'application/json',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      }, signal);
      const remaining = answer.headers.get('x-hubspot-ratelimit-daily-remaining');
      if (remaining !== null) this.#budget.observeDailyRemaining(Number(remaining));
      this.#throwIfTransient(answer);
      return answer;
    });
  }

  #throwIfTransient(answer: HttpAnswer): void {
    const body = answer.body as { message?: string; category?: string; policyName?: string } | undefined;
    if (answer.status === 429) {
      const daily = body?.policyName === 'DAILY';
      const fallback = daily ? this.#budget.untilDailyReset() : this.#options.burstWindowMs;
      const pause = parseRetryAfter(answer.headers.get('retry-after'), fallback);
      throw new CrmRateLimitedError(CRM, `HubSpot rate limit: ${body?.message ?? '429'}`, pause, { status: 429, code: body?.policyName ?? body?.category ?? 'RATE_LIMITS' });
    }
    if (answer.status >= 500) {
      throw new CrmUnavailableError(CRM, `HubSpot answered ${answer.status}: ${body?.message ?? describeBody(answer.body)}`, { status: answer.status });
    }
    if (answer.status === 401 || answer.status === 403) {
      // Our token or its scopes are wrong, not the lead: the lead waits for the fix instead of dead-lettering.
      throw new CrmUnavailableError(CRM, `HubSpot refused our credentials (${answer.status}): ${body?.message ?? ''}`, { status: answer.status, ...(body?.category && { code: body.category }) });
    }
  }

  #refusal(answer: HttpAnswer, what: string): CrmError {
    const body = answer.body as { message?: string; category?: string; errors?: Array<{ message?: string; category?: string }> } | undefined;
    const message = body?.message ?? body?.errors?.[0]?.message ?? describeBody(answer.body);
    const code = body?.category ?? body?.errors?.[0]?.category;
    if (answer.status >= 400 && answer.status < 500 || answer.status === 207) {
      return new CrmValidationError(CRM, `HubSpot refused ${what}: ${message}`, { status: answer.status, ...(code && { code }) });
    }
    return new CrmUnavailableError(CRM, `unexpected HubSpot answer ${answer.status} to ${what}: ${message}`, { status: answer.status });
  }
}

function emailOf(fields: Record<string, unknown>): string | undefined {
  const email = fields.email;
  return typeof email === 'string' && email.trim() !== '' ? email.trim().toLowerCase() : undefined;
}

/** HubSpot property values are strings on the wire. */
function toProperties(fields: Record<string, unknown>, email: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    out[key] = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  out.email = email;
  return out;
}
