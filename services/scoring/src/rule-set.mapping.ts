import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { scoring } from '@leadmesh/contracts';
import type { RescoreJobDoc } from './rescore-job.store.js';
import type { RuleSetDoc } from './rule-set.store.js';

export function toRuleSet(doc: RuleSetDoc, activeVersion: string | undefined): MessageInitShape<typeof scoring.RuleSetSchema> {
  return {
    version: doc._id,
    description: doc.description,
    document: doc.document,
    active: doc._id === activeVersion,
    publishedAt: timestampFromDate(new Date(doc.publishedAt)),
    activatedAt: doc.activatedAt ? timestampFromDate(new Date(doc.activatedAt)) : undefined,
  };
}

export function toRescoreJob(job: RescoreJobDoc): MessageInitShape<typeof scoring.RescoreJobSchema> {
  return {
    jobId: job._id,
    ruleSetVersion: job.ruleSetVersion,
    total: job.total,
    done: job.done,
    finished: job.finished,
    startedAt: timestampFromDate(new Date(job.startedAt)),
    finishedAt: job.finishedAt ? timestampFromDate(new Date(job.finishedAt)) : undefined,
  };
}
