import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { scoring } from '@leadmesh/contracts';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@leadmesh/platform';
import { compareRuleSetVersions, RuleSetError, type RuleSet } from './domain/rule-set.js';
import { RescoreJobStore, type RescoreJobDoc } from './rescore-job.store.js';
import { RescoreWorker } from './rescore.worker.js';
import { readRuleSetDocument, ruleSetFingerprint, ruleSetIssues } from './rules/rule-set-document.js';
import { toRescoreJob, toRuleSet } from './rule-set.mapping.js';
import { RuleSetRegistry } from './rule-set.registry.js';
import { RuleSetStore } from './rule-set.store.js';
import { ScoreStore } from './score.store.js';
import { SCORING_OPTIONS, type ScoringOptions } from './scoring.options.js';

type RuleSetInit = MessageInitShape<typeof scoring.RuleSetSchema>;
type RescoreJobInit = MessageInitShape<typeof scoring.RescoreJobSchema>;

/** Rule-set management: publish a version, list them, activate one (or roll back) and follow the rescore. */
@Injectable()
export class RuleSetService {
  constructor(
    @Inject(RuleSetStore) private readonly store: RuleSetStore,
    @Inject(RuleSetRegistry) private readonly registry: RuleSetRegistry,
    @Inject(RescoreJobStore) private readonly jobs: RescoreJobStore,
    @Inject(ScoreStore) private readonly scores: ScoreStore,
    @Inject(RescoreWorker) private readonly worker: RescoreWorker,
    @Inject(SCORING_OPTIONS) private readonly options: ScoringOptions,
  ) {}

  /** Stores a new version, validated; publishing the same rule set again is a no-op. Not active until activated. */
  async publish(document: string): Promise<RuleSetInit> {
    const ruleSet = parsePublished(document);
    await this.registry.ready();
    const fingerprint = ruleSetFingerprint(ruleSet);
    const { stored, created } = await this.store.insert({
      _id: ruleSet.version,
      description: ruleSet.description,
      document,
      fingerprint,
      publishedAt: new Date(),
    });
    if (!created && stored.fingerprint !== fingerprint) {
      throw new AlreadyExistsError(`rule set ${ruleSet.version} with different content (a published version never changes; publish a new version)`);
    }
    this.registry.remember(ruleSet);
    return toRuleSet(stored, await this.activeVersion());
  }

  async list(): Promise<{ ruleSets: RuleSetInit[]; activeVersion: string }> {
    const [docs, activeVersion] = await Promise.all([this.store.list(), this.activeVersion()]);
    docs.sort((a, b) => compareRuleSetVersions(a._id, b._id));
    return { ruleSets: docs.map((d) => toRuleSet(d, activeVersion)), activeVersion };
  }

  /**
   * Makes a version active and starts rescoring every stored lead with it. The job is stored before
   * the switch, so a crash in between leaves a job that stops as superseded rather than a switch
   * without a rescore.
   */
  async activate(version: string): Promise<{ ruleSet: RuleSetInit; rescore: RescoreJobInit }> {
    await this.registry.ready();
    const doc = await this.store.find(version);
    if (!doc) throw new NotFoundError(`rule set ${version}`);
    await this.registry.get(version);
    const now = new Date();
    const job: RescoreJobDoc = {
      _id: randomUUID(),
      ruleSetVersion: version,
      total: await this.scores.countScorable(),
      done: 0,
      finished: false,
      superseded: false,
      startedAt: now,
      // Other replicas pick up the new version within one refresh; rescoring before that could
      // race a lead they are still scoring with the old one.
      notBefore: new Date(now.getTime() + this.options.settingsRefreshMs),
      leaseUntil: new Date(0),
    };
    await this.jobs.create(job);
    await this.store.activate(version, now);
    await this.registry.refresh();
    this.worker.kick(job.notBefore);
    return { ruleSet: toRuleSet({ ...doc, activatedAt: now }, version), rescore: toRescoreJob(job) };
  }

  async progress(jobId: string): Promise<RescoreJobInit> {
    const job = await this.jobs.find(jobId);
    if (!job) throw new NotFoundError(`rescore job ${jobId}`);
    return toRescoreJob(job);
  }

  /** Read from the store, not the cache: a listing right after an activation elsewhere must show it. */
  private async activeVersion(): Promise<string> {
    const settings = await this.store.activeSettings();
    return settings?.activeVersion ?? (await this.registry.activeVersionName());
  }
}

function parsePublished(document: string): RuleSet {
  try {
    return readRuleSetDocument(document);
  } catch (err) {
    if (!(err instanceof RuleSetError)) throw err;
    const violations = ruleSetIssues(err).map(({ path, problem }) => ({
      field: path === '(document)' ? 'document' : `document.${path}`,
      description: problem,
    }));
    throw new InvalidArgumentError(violations, 'rule set document');
  }
}
