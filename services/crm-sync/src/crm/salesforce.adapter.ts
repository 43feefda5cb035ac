// Salesforce REST API, written from Salesforce's documentation:
//   token   POST {loginUrl}/services/oauth2/token (client credentials flow)
//   upsert  PATCH /services/data/vXX.X/sobjects/Lead/{ExternalIdField}/{value}
//   batch   PATCH /services/data/vXX.X/composite/sobjects/Lead/{ExternalIdField} (sObject Collections)
//   erase   Bulk API 2.0 hardDelete job: POST /services/data/vXX.X/jobs/ingest, PUT .../batches (CSV of
//           Ids), PATCH {state: UploadComplete}, GET until JobComplete (then failedResults if any);
//           the Ids from the one crm-sync knows and GET .../sobjects/Lead/{ExternalIdField}/{value}?fields=Id
//   member  POST /services/data/vXX.X/sobjects/CampaignMember {CampaignId, LeadId, Status}
//   read    GET /services/data/vXX.X/sobjects/Lead/{Id}?fields=A,B (the values sales may have changed)
//   changes GET /services/data/vXX.X/query?q=SELECT ... FROM Lead WHERE SystemModstamp > <dateTime> ORDER BY SystemModstamp
import { accountDomains, type CrmAccountSeen } from '../domain/crm-accounts.js';
import type { CrmRecordSeen } from '../domain/crm-changes.js';
import {
  CrmConflictError,
  CrmConvertedError,
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
import { ResilientExecutor, parseRetryAfter, type CrmEventListener, type ResilienceOptions } from './resilience.js';

export interface SalesforceOptions {
  /** https://login.salesforce.com, https://test.salesforce.com or the org's My Domain URL. */
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  apiVersion: string;
  /** The Lead field marked External ID that holds our lead id. */
  externalIdField: string;
  /** Sent as Sforce-Auto-Assign: whether Salesforce's lead assignment rules run on our writes. */
  autoAssign: boolean;
  /** The client credentials flow returns no expiry; the session lives as long as the org's timeout. */
  tokenTtlMs: number;
  /** sObject Collections take at most 200 records per call. */
  batchSize: number;
  resilience: ResilienceOptions;
  /** How long an erasure waits for its hardDelete job to be processed before it is tried again later (default 2 minutes). */
  hardDeleteMaxWaitMs?: number;
  /** The first pause between looks at a hardDelete job; it doubles up to 2 s (default 100 ms). */
  hardDeletePollMs?: number;
  fetch?: FetchLike;
  onEvent?: CrmEventListener;
}

/** What Get Job Info answers of a Bulk API 2.0 ingest job (the part read here). */
interface BulkJobInfo {
  id?: string;
  state?: string;
  numberRecordsFailed?: number;
  errorMessage?: string;
}

interface Token {
  accessToken: string;
  instanceUrl: string;
  expiresAt: number;
}

interface SalesforceError {
  message?: string;
  errorCode?: string;
  statusCode?: string;
  fields?: string[];
}

const CRM = 'salesforce';

export class SalesforceAdapter implements CrmPort {
  readonly name = CRM;
  readonly #options: SalesforceOptions;
  readonly #exec: ResilientExecutor;
  readonly #fetch: FetchLike;
  #token: Token | undefined;
  #pendingToken: Promise<Token> | undefined;

  constructor(options: SalesforceOptions) {
    if (options.batchSize < 1 || options.batchSize > 200) throw new Error('batchSize must be between 1 and 200 (sObject Collections limit)');
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#exec = new ResilientExecutor(CRM, options.resilience, options.onEvent ? { onEvent: options.onEvent } : {});
  }

  get breakerState() {
    return this.#exec.breakerState;
  }

  async upsertLead(leadId: string, fields: Record<string, unknown>): Promise<CrmUpsertResult> {
    const answer = await this.#call('PATCH', this.#byExternalId(leadId), this.#withoutKeys(fields));
    const body = answer.body as { id?: string; created?: boolean } | undefined;
    if (answer.status === 201 || answer.status === 200) {
      if (!body?.id) throw new CrmUnavailableError(CRM, `upsert of lead ${leadId} answered ${answer.status} without an id`);
      return { crmId: body.id, created: answer.status === 201 || body.created === true };
    }
    if (answer.status === 204) return { crmId: await this.#lookupId(leadId), created: false };
    if (answer.status === 300) {
      const matches = Array.isArray(answer.body) ? answer.body.map(String) : [];
      throw new CrmConflictError(CRM, `lead ${leadId} matches ${matches.length} Salesforce Leads by ${this.#options.externalIdField}`, matches, { status: 300 });
    }
    throw this.#refusal(answer, `upsert of lead ${leadId}`);
  }

  async upsertLeads(batch: CrmBatchItem[]): Promise<CrmBatchResult[]> {
    // One lead twice in a call is refused by Salesforce; its latest fields win, and both items share the answer.
    const latest = new Map<string, CrmBatchItem>();
    for (const item of batch) latest.set(item.leadId, item);
    const unique = [...latest.values()];
    const outcome = new Map<string, Omit<CrmBatchResult, 'leadId'>>();
    for (let i = 0; i < unique.length; i += this.#options.batchSize) {
      const chunk = unique.slice(i, i + this.#options.batchSize);
      const results = await this.#upsertChunk(chunk).catch((err: CrmError) => chunk.map(() => ({ error: err })));
      chunk.forEach((item, k) => outcome.set(item.leadId, results[k] ?? { error: this.#missingResult(item.leadId) }));
    }
    return batch.map((item) => ({ leadId: item.leadId, ...outcome.get(item.leadId) }));
  }

  async addCampaignMember(crmId: string, campaignId: string, status: string): Promise<CampaignMemberResult> {
    const answer = await this.#call('POST', `${this.#base()}/sobjects/CampaignMember`, { CampaignId: campaignId, LeadId: crmId, Status: status });
    const body = answer.body as { id?: string } | undefined;
    if (answer.status === 201 && body?.id) return { memberId: body.id, already: false };
    // Salesforce refuses a second CampaignMember of one lead and campaign: once is what we want.
    if (answer.status === 400 && firstError(answer.body)?.errorCode === 'DUPLICATE_VALUE') return { already: true };
    throw this.#refusal(answer, `campaign membership of Lead ${crmId} in Campaign ${campaignId}`);
  }

  async convertedTo(crmId: string): Promise<{ contactId: string } | undefined> {
    const values = await this.readLead(crmId, ['IsConverted', 'ConvertedContactId']);
    return values.IsConverted === true && typeof values.ConvertedContactId === 'string' ? { contactId: values.ConvertedContactId } : undefined;
  }

  async updateContact(contactId: string, fields: Record<string, unknown>): Promise<void> {
    const answer = await this.#call('PATCH', `${this.#base()}/sobjects/Contact/${encodeURIComponent(contactId)}`, fields);
    if (answer.status !== 204 && answer.status !== 200) throw this.#refusal(answer, `update of Contact ${contactId}`);
  }

  async changedSince(since: Date, fields: string[], limit: number): Promise<CrmRecordSeen[]> {
    const ext = this.#options.externalIdField;
    const names = [...new Set(['Id', ext, 'SystemModstamp', ...fields])];
    // SOQL takes a dateTime literal to the second, unquoted. ">=" that second: Salesforce stamps to
    // the second, so records of the watermark's own second written after the last poll still come;
    // those seen already are recognised by their stamp. No LIMIT: a large answer comes in batches
    // through nextRecordsUrl (a query locator), read here up to `limit` records.
    const from = since.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const soql = `SELECT ${names.join(', ')} FROM Lead WHERE SystemModstamp >= ${from} ORDER BY SystemModstamp ASC`;
    const seen: CrmRecordSeen[] = [];
    for (let path: string | undefined = `${this.#base()}/query?q=${encodeURIComponent(soql)}`; path && seen.length < limit; ) {
      const answer = await this.#call('GET', path);
      const body = answer.body as { records?: Array<Record<string, unknown>>; done?: boolean; nextRecordsUrl?: string } | undefined;
      if (answer.status !== 200 || !Array.isArray(body?.records)) throw this.#refusal(answer, 'the query of modified Leads');
      seen.push(...body.records.map((r) => this.#seen(r, fields)));
      path = body.done === false ? body.nextRecordsUrl : undefined;
    }
    return seen.slice(0, limit);
  }

  async accountsChangedSince(since: Date, limit: number): Promise<CrmAccountSeen[]> {
    // As for Leads: ">=" the watermark's second, batches through nextRecordsUrl. Website is the one
    // standard Account field that names the company's domain.
    const from = since.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const soql = `SELECT Id, Name, Website, OwnerId, SystemModstamp FROM Account WHERE SystemModstamp >= ${from} ORDER BY SystemModstamp ASC`;
    const seen: CrmAccountSeen[] = [];
    for (let path: string | undefined = `${this.#base()}/query?q=${encodeURIComponent(soql)}`; path && seen.length < limit; ) {
      const answer = await this.#call('GET', path);
      const body = answer.body as { records?: Array<Record<string, unknown>>; done?: boolean; nextRecordsUrl?: string } | undefined;
      if (answer.status !== 200 || !Array.isArray(body?.records)) throw this.#refusal(answer, 'the query of modified Accounts');
      for (const r of body.records) {
        seen.push({
          accountId: String(r.Id),
          name: typeof r.Name === 'string' ? r.Name : '',
          domains: accountDomains(r.Website),
          crmOwnerId: typeof r.OwnerId === 'string' ? r.OwnerId : '',
          modifiedAt: new Date(String(r.SystemModstamp)),
        });
      }
      path = body.done === false ? body.nextRecordsUrl : undefined;
    }
    return seen.slice(0, limit);
  }

  async readChanged(crmId: string, fields: string[]): Promise<CrmRecordSeen> {
    return this.#seen({ Id: crmId, ...(await this.readLead(crmId, [...new Set([this.#options.externalIdField, 'SystemModstamp', ...fields])])) }, fields);
  }

  #seen(record: Record<string, unknown>, fields: string[]): CrmRecordSeen {
    const leadId = record[this.#options.externalIdField];
    return {
      crmId: String(record.Id),
      ...(typeof leadId === 'string' && leadId !== '' && { leadId }),
      values: Object.fromEntries(fields.map((f) => [f, record[f] ?? null])),
      // Salesforce writes 2026-11-27T10:00:00.000+0000, which Date reads.
      modifiedAt: new Date(String(record.SystemModstamp)),
    };
  }

  async probe(): Promise<void> {
    // The org's limits: a cheap authenticated read that any connected app may make.
    const answer = await this.#call('GET', `${this.#base()}/limits`);
    if (answer.status !== 200) throw this.#refusal(answer, 'the availability probe');
  }

  async readLead(crmId: string, fields: string[]): Promise<Record<string, unknown>> {
    const answer = await this.#call('GET', `${this.#base()}/sobjects/Lead/${encodeURIComponent(crmId)}?fields=${fields.map(encodeURIComponent).join(',')}`);
    if (answer.status !== 200 || typeof answer.body !== 'object' || answer.body === null) throw this.#refusal(answer, `read of Lead ${crmId}`);
    const { attributes: _attributes, ...values } = answer.body as Record<string, unknown>;
    return values;
  }

  /**
   * Erasure, for good. A DELETE puts a Lead in the Recycle Bin, restorable with every field for 15
   * days; a Bulk API 2.0 hardDelete job bypasses it (the integration user needs the "Bulk API Hard
   * Delete" permission). The Leads are the one crm-sync knows and whatever our external id names
   * now, so a record a late write created again goes too. Nothing left to delete is success:
   * erasure must be repeatable.
   */
  async deleteLead(leadId: string, crmId?: string): Promise<void> {
    const ids = new Set(crmId ? [crmId] : []);
    for (const id of await this.#idsByExternalId(leadId)) ids.add(id);
    if (ids.size > 0) await this.#hardDelete([...ids], leadId);
  }

  async #idsByExternalId(leadId: string): Promise<string[]> {
    const answer = await this.#call('GET', `${this.#byExternalId(leadId)}?fields=Id`);
    if (answer.status === 404) return [];
    // Several Leads with our id (merged by hand since?): each is the person's.
    if (answer.status === 300 && Array.isArray(answer.body)) return answer.body.map((url) => String(url).split('/').at(-1) ?? '').filter(Boolean);
    const id = (answer.body as { Id?: string } | undefined)?.Id;
    if (answer.status !== 200 || !id) throw this.#refusal(answer, `lookup of lead ${leadId} for erasure`);
    return [id];
  }

  /** One hardDelete job for these Lead Ids, waited for; a record already gone counts as deleted. */
  async #hardDelete(ids: string[], leadId: string): Promise<void> {
    const what = `hard delete of lead ${leadId}`;
    const created = await this.#call('POST', `${this.#base()}/jobs/ingest`, { object: 'Lead', operation: 'hardDelete', contentType: 'CSV', lineEnding: 'LF' });
    const jobId = (created.body as BulkJobInfo | undefined)?.id;
    if (created.status !== 200 || !jobId) throw this.#refusal(created, what);
    const job = `${this.#base()}/jobs/ingest/${encodeURIComponent(jobId)}`;
    const uploaded = await this.#call('PUT', `${job}/batches`, ['Id', ...ids].join('\n') + '\n', 'text/csv');
    if (uploaded.status !== 201) throw this.#refusal(uploaded, what);
    const closed = await this.#call('PATCH', job, { state: 'UploadComplete' });
    if (closed.status !== 200) throw this.#refusal(closed, what);
    const info = await this.#jobDone(job, leadId);
    if (info.state !== 'JobComplete') {
      // The job itself failed (a missing permission, the org's limits): our set-up, not the lead, so it is retried.
      throw new CrmUnavailableError(CRM, `Salesforce ${what}: job ${jobId} ended ${info.state}: ${info.errorMessage ?? ''}`.trim(), { code: 'BULK_JOB_FAILED' });
    }
    if (!info.numberRecordsFailed) return;
    const failed = await this.#call('GET', `${job}/failedResults`);
    const errors = typeof failed.body === 'string' ? failedErrors(failed.body) : [];
    const refused = errors.filter((e) => !e.startsWith('ENTITY_IS_DELETED'));
    if (failed.status === 200 && refused.length === 0) return;
    const code = refused[0]?.split(':')[0] || 'BULK_RECORD_FAILED';
    throw new CrmValidationError(CRM, `Salesforce refused the ${what}: ${refused[0] ?? describeBody(failed.body)}`, { code, status: failed.status });
  }

  /** Get Job Info until the job is processed; still pending after hardDeleteMaxWaitMs, the erasure is tried again later. */
  async #jobDone(job: string, leadId: string): Promise<BulkJobInfo> {
    const deadline = Date.now() + (this.#options.hardDeleteMaxWaitMs ?? 120_000);
    for (let pause = this.#options.hardDeletePollMs ?? 100; ; pause = Math.min(pause * 2, 2000)) {
      const answer = await this.#call('GET', job);
      const info = answer.body as BulkJobInfo | undefined;
      if (answer.status !== 200 || !info) throw this.#refusal(answer, `status of the hard delete of lead ${leadId}`);
      if (info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted') return info;
      if (Date.now() + pause > deadline) throw new CrmUnavailableError(CRM, `Salesforce has not processed the hard delete of lead ${leadId} yet (${info.state})`, { code: 'BULK_JOB_PENDING' });
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  async #upsertChunk(chunk: CrmBatchItem[]): Promise<Array<Omit<CrmBatchResult, 'leadId'>>> {
    const records = chunk.map((item) => ({
      attributes: { type: 'Lead' },
      ...this.#withoutKeys(item.fields),
      [this.#options.externalIdField]: item.leadId,
    }));
    const answer = await this.#call('PATCH', `${this.#base()}/composite/sobjects/Lead/${this.#options.externalIdField}`, { allOrNone: false, records });
    if (answer.status !== 200 || !Array.isArray(answer.body)) throw this.#refusal(answer, `batch upsert of ${chunk.length} leads`);
    return (answer.body as Array<{ id?: string; success?: boolean; created?: boolean; errors?: SalesforceError[] }>).map((r, k) => {
      if (r.success && r.id) return { crmId: r.id, created: r.created === true };
      return { error: this.#recordError(r.errors?.[0], chunk[k]?.leadId ?? '?') };
    });
  }

  async #lookupId(leadId: string): Promise<string> {
    const answer = await this.#call('GET', `${this.#byExternalId(leadId)}?fields=Id`);
    const id = (answer.body as { Id?: string } | undefined)?.Id;
    if (answer.status !== 200 || !id) throw this.#refusal(answer, `lookup of lead ${leadId} after update`);
    return id;
  }

  /** Sends one request with a valid session; an expired session is renewed once, then it is our problem. */
  async #call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.#session();
      const answer = await this.#exec.run(async (signal) => {
        const a = await exchange(CRM, this.#fetch, `${token.instanceUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token.accessToken}`,
            accept: 'application/json',
            'sforce-auto-assign': this.#options.autoAssign ? 'TRUE' : 'FALSE',
            ...(body !== undefined && { 'content-type': contentType }),
          },
          ...(body !== undefined && { body: typeof body === 'string' && contentType !== 'application/json' ? body : JSON.stringify(body) }),
        }, signal);
        this.#throwIfTransient(a);
        return a;
      });
      if (answer.status !== 401) return answer;
      const error = firstError(answer.body);
      if (attempt === 1) {
        this.#forget(token);
        continue;
      }
      throw new CrmUnavailableError(CRM, `Salesforce refused a fresh session: ${error?.message ?? describeBody(answer.body)}`, {
        status: 401,
        ...(error?.errorCode && { code: error.errorCode }),
      });
    }
  }

  #session(): Promise<Token> {
    if (this.#token && this.#token.expiresAt > Date.now()) return Promise.resolve(this.#token);
    // One token request for all concurrent callers; a failed request is not remembered.
    this.#pendingToken ??= this.#requestToken()
      .then((token) => (this.#token = token))
      .finally(() => (this.#pendingToken = undefined));
    return this.#pendingToken;
  }

  #forget(token: Token): void {
    if (this.#token === token) this.#token = undefined;
  }

  async #requestToken(): Promise<Token> {
    const { loginUrl, clientId, clientSecret, tokenTtlMs } = this.#options;
    const answer = await this.#exec.run(async (signal) => {
      const a = await exchange(CRM, this.#fetch, `${loginUrl.replace(/\/$/, '')}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
      }, signal);
      this.#throwIfTransient(a);
      return a;
    });
    const body = answer.body as { access_token?: string; instance_url?: string; expires_in?: number; error?: string; error_description?: string } | undefined;
    if (answer.status !== 200 || !body?.access_token || !body.instance_url) {
      // Our credentials, not the lead, are wrong: transient for the lead, so it waits for the fix.
      throw new CrmUnavailableError(CRM, `Salesforce token request failed (${answer.status}): ${body?.error ?? ''} ${body?.error_description ?? ''}`.trim(), {
        status: answer.status,
        ...(body?.error && { code: body.error }),
      });
    }
    const ttl = typeof body.expires_in === 'number' ? body.expires_in * 1000 : tokenTtlMs;
    return { accessToken: body.access_token, instanceUrl: body.instance_url.replace(/\/$/, ''), expiresAt: Date.now() + ttl };
  }

  #throwIfTransient(answer: HttpAnswer): void {
    const error = firstError(answer.body);
    if (answer.status === 429 || error?.errorCode === 'REQUEST_LIMIT_EXCEEDED') {
      const pause = parseRetryAfter(answer.headers.get('retry-after'), this.#options.resilience.rateLimitDefaultPauseMs);
      throw new CrmRateLimitedError(CRM, `Salesforce rate limit: ${error?.message ?? answer.status}`, pause, {
        status: answer.status,
        code: error?.errorCode ?? 'REQUEST_LIMIT_EXCEEDED',
      });
    }
    if (answer.status >= 500) {
      throw new CrmUnavailableError(CRM, `Salesforce answered ${answer.status}: ${error?.message ?? describeBody(answer.body)}`, {
        status: answer.status,
        ...(error?.errorCode && { code: error.errorCode }),
      });
    }
  }

  #refusal(answer: HttpAnswer, what: string): CrmError {
    const error = firstError(answer.body);
    if (error?.errorCode === 'CANNOT_UPDATE_CONVERTED_LEAD') {
      return new CrmConvertedError(CRM, `Salesforce refused ${what}: the Lead is converted (${error.message ?? ''})`, { status: answer.status, code: error.errorCode });
    }
    if (answer.status >= 400 && answer.status < 500) {
      return new CrmValidationError(CRM, `Salesforce refused ${what}: ${error?.message ?? describeBody(answer.body)}`, {
        status: answer.status,
        ...(error?.errorCode && { code: error.errorCode }),
        ...(error?.fields && { fields: error.fields }),
      });
    }
    return new CrmUnavailableError(CRM, `unexpected Salesforce answer ${answer.status} to ${what}: ${describeBody(answer.body)}`, { status: answer.status });
  }

  #recordError(error: SalesforceError | undefined, leadId: string): CrmError {
    const code = error?.statusCode ?? error?.errorCode ?? 'UNKNOWN';
    const message = `Salesforce refused lead ${leadId}: ${error?.message ?? 'no reason given'}`;
    const details = { code, ...(error?.fields && { fields: error.fields }) };
    if (code === 'UNABLE_TO_LOCK_ROW' || code === 'SERVER_UNAVAILABLE') return new CrmUnavailableError(CRM, message, details);
    if (code === 'REQUEST_LIMIT_EXCEEDED') return new CrmRateLimitedError(CRM, message, this.#options.resilience.rateLimitDefaultPauseMs, details);
    if (code === 'DUPLICATE_EXTERNAL_ID') return new CrmConflictError(CRM, message, [], details);
    if (code === 'CANNOT_UPDATE_CONVERTED_LEAD') return new CrmConvertedError(CRM, message, details);
    return new CrmValidationError(CRM, message, details);
  }

  #missingResult(leadId: string): CrmError {
    return new CrmUnavailableError(CRM, `Salesforce returned no result for lead ${leadId}`);
  }

  #base(): string {
    return `/services/data/v${this.#options.apiVersion}`;
  }

  #byExternalId(leadId: string): string {
    return `${this.#base()}/sobjects/Lead/${this.#options.externalIdField}/${encodeURIComponent(leadId)}`;
  }

  /** The upsert URL names the record; Salesforce refuses Id or the external id field in the body. */
  #withoutKeys(fields: Record<string, unknown>): Record<string, unknown> {
    const { Id: _id, [this.#options.externalIdField]: _ext, ...rest } = fields;
    return rest;
  }
}

/** The sf__Error column of a Bulk API 2.0 failedResults CSV (sf__Id first, sf__Error second). */
function failedErrors(csv: string): string[] {
  return csv
    .split(/\r?\n/)
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => (/^"[^"]*","((?:[^"]|"")*)"/.exec(line)?.[1] ?? line.split(',')[1] ?? '').replace(/""/g, '"'));
}

/** Salesforce sends an array of errors; some documentation examples show a single error object, read alike. */
function firstError(body: unknown): SalesforceError | undefined {
  if (Array.isArray(body)) return body[0] && typeof body[0] === 'object' ? (body[0] as SalesforceError) : undefined;
  return body && typeof body === 'object' && 'errorCode' in body ? (body as SalesforceError) : undefined;
}
