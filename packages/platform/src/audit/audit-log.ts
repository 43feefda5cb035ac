import { randomUUID } from 'node:crypto';
import { toJson, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { audit } from '@leadmesh/contracts';
import { Schema, type Model } from 'mongoose';
import type { Logger } from 'pino';
import { InvalidArgumentError } from '../errors.js';
import { defineModel, type MongoStore } from '../mongo/store.js';

/** One privileged call: written when it starts, finished with its outcome. */
interface AuditDoc {
  _id: string; // <called at, ms, 13 digits>-<random>: newest first by _id
  method: string;
  caller: string;
  target: string;
  outcome: string;
  calledAt: Date;
  finishedAt?: Date;
  traceId: string;
}

const schema = new Schema<AuditDoc>(
  {
    _id: String,
    method: { type: String, required: true },
    caller: { type: String, required: true, index: true },
    target: { type: String, default: '' },
    outcome: { type: String, required: true },
    calledAt: { type: Date, required: true },
    finishedAt: Date,
    traceId: { type: String, default: '' },
  },
  { versionKey: false },
);

export const AUDIT_STARTED = 'STARTED';
const DEFAULT_PAGE_SIZE = 50;

export interface AuditStart {
  method: string;
  caller: string;
  target: string;
  traceId: string;
}

type AuditRecord = MessageInitShape<typeof audit.AuditRecordSchema>;

/**
 * A service's audit record of its privileged calls (the RPCs marked leadmesh.auth.v1.audited), in
 * its own store, written by the platform's gRPC server around the call so that no RPC can forget
 * it, and listed by leadmesh.audit.v1.AuditService on every service's port. The record is inserted
 * before the call runs: if it cannot be written the call is refused (UNAVAILABLE), so nothing
 * privileged happens unrecorded; its outcome is filled in after. Records are kept (no expiry).
 */
export class AuditLog {
  private readonly model: Model<AuditDoc>;

  constructor(
    store: MongoStore,
    private readonly service: string,
    private readonly logger: Logger,
  ) {
    this.model = defineModel(store, 'AuditRecord', schema, 'audit_records');
  }

  async begin(start: AuditStart, calledAt = new Date()): Promise<string> {
    const _id = `${String(calledAt.getTime()).padStart(13, '0')}-${randomUUID()}`;
    await this.model.create({ _id, ...start, outcome: AUDIT_STARTED, calledAt });
    return _id;
  }

  /** Its outcome (a gRPC status name) and, when the answer names it, its target. Never throws: the call is done. */
  async finish(recordId: string, outcome: string, target?: string): Promise<void> {
    try {
      await this.model.updateOne({ _id: { $eq: recordId } }, { $set: { outcome, finishedAt: new Date(), ...(target ? { target } : {}) } });
    } catch (err) {
      this.logger.error({ err: (err as Error).message, auditRecord: recordId, outcome }, 'audit record outcome not written');
    }
  }

  async list(pageSize: number, pageToken: string, caller: string): Promise<MessageInitShape<typeof audit.ListAuditRecordsResponseSchema>> {
    const size = pageSize || DEFAULT_PAGE_SIZE;
    const before = decodePageToken(pageToken);
    const docs = await this.model
      .find({ ...(before ? { _id: { $lt: before } } : {}), ...(caller ? { caller: { $eq: caller } } : {}) })
      .sort({ _id: -1 })
      .limit(size + 1)
      .lean<AuditDoc[]>();
    const page = docs.slice(0, size);
    return {
      records: page.map((d) => this.toRecord(d)),
      nextPageToken: docs.length > size ? Buffer.from(`before:${page[page.length - 1]!._id}`).toString('base64url') : '',
    };
  }

  private toRecord(d: AuditDoc): AuditRecord {
    return {
      recordId: d._id,
      service: this.service,
      method: d.method,
      caller: d.caller,
      target: d.target,
      outcome: d.outcome,
      calledAt: timestampFromDate(d.calledAt),
      finishedAt: d.finishedAt ? timestampFromDate(d.finishedAt) : undefined,
      traceId: d.traceId,
    };
  }
}

function decodePageToken(token: string): string | undefined {
  if (token === '') return undefined;
  const match = /^before:(\d{13}-[0-9a-f-]{36})$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match) throw new InvalidArgumentError([{ field: 'page_token', description: 'is not a token from a previous ListAuditRecords answer' }], 'ListAuditRecordsRequest');
  return match[1];
}

/**
 * What an audited call acted on, from its `audit_target` option: the first of the named fields
 * (request fields, or "response." ones) that is set, as "name=value". Empty when none is.
 */
export function auditTarget(
  spec: string,
  request: { schema: DescMessage; message: MessageShape<DescMessage> },
  response?: { schema: DescMessage; message: MessageShape<DescMessage> },
): string {
  for (const raw of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const fromResponse = raw.startsWith('response.');
    const source = fromResponse ? response : request;
    if (!source) continue;
    const path = fromResponse ? raw.slice('response.'.length) : raw;
    let value: unknown = toJson(source.schema, source.message, { useProtoFieldName: true });
    for (const part of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      if (value !== '' && value !== false) return `${path}=${String(value)}`;
    }
  }
  return '';
}
