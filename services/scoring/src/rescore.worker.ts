import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LOGGER, PeriodicWork, inBackgroundSpan, type Logger } from '@leadmesh/platform';
import { RescoreJobStore, type RescoreJobDoc } from './rescore-job.store.js';
import { RuleSetRegistry } from './rule-set.registry.js';
import { ScoreStore } from './score.store.js';
import { SCORING_OPTIONS, type ScoringOptions } from './scoring.options.js';
import { ScoringService } from './scoring.service.js';

/**
 * Runs rule-set rescore jobs in the background, one at a time per replica. Any replica may run a
 * job: it claims it with a lease, renews the lease with every batch, and a job whose holder
 * crashed is taken over where its cursor stopped once the lease runs out.
 */
@Injectable()
export class RescoreWorker implements OnModuleInit, OnModuleDestroy {
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly work: PeriodicWork;
  private stopped = false;

  constructor(
    @Inject(RescoreJobStore) private readonly jobs: RescoreJobStore,
    @Inject(ScoreStore) private readonly scores: ScoreStore,
    @Inject(RuleSetRegistry) private readonly ruleSets: RuleSetRegistry,
    @Inject(ScoringService) private readonly scoring: ScoringService,
    @Inject(SCORING_OPTIONS) private readonly options: ScoringOptions,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // An interrupted job's lease runs out and this or another replica picks it up again.
    this.work = new PeriodicWork('rescore', () => this.runJobs(), { everyMs: options.rescorePollMs, logger });
  }

  onModuleInit(): void {
    void this.ruleSets.loaded().then(
      () => {
        if (this.stopped) return;
        this.work.start(true);
      },
      () => undefined,
    );
  }

  onModuleDestroy(): Promise<void> {
    this.stopped = true;
    return this.work.stop();
  }

  /** Looks for a job at once (and again when it may start) instead of waiting for the next poll. */
  kick(notBefore: Date): void {
    this.work.runAt(new Date(notBefore.getTime() + 10));
  }

  private async runJobs(): Promise<void> {
    for (;;) {
      const job = await this.jobs.claimNext(this.owner, new Date(), this.options.rescoreLeaseMs);
      if (!job || this.stopped) break;
      await this.run(job);
    }
  }

  private async run(job: RescoreJobDoc): Promise<void> {
    const log = this.logger.child({ jobId: job._id, ruleSetVersion: job.ruleSetVersion });
    log.info({ total: job.total, done: job.done }, 'rescore started');
    const ruleSet = await this.ruleSets.get(job.ruleSetVersion);
    let { cursor, done, total } = job;
    for (;;) {
      // Re-read each batch: a later activation supersedes this job rather than racing it.
      const active = await this.ruleSets.refresh();
      if (active !== job.ruleSetVersion) {
        await this.jobs.finish(job._id, this.owner, { done, total, superseded: true }, new Date());
        log.info({ active, done, total }, 'rescore superseded by a later activation');
        return;
      }
      const ids = await this.scores.scorableIdsAfter(cursor, this.options.rescoreBatchSize);
      if (ids.length === 0 || this.stopped) break;
      for (const leadId of ids) {
        await inBackgroundSpan('rescore lead', { 'leadmesh.lead_id': leadId, 'leadmesh.scoring.rule_set_version': job.ruleSetVersion, 'leadmesh.scoring.rescore_job_id': job._id }, () =>
          this.scoring.rescoreForJob(leadId, job._id, ruleSet),
        );
      }
      cursor = ids.at(-1);
      done += ids.length;
      // Leads that arrived after the job started are walked too.
      total = Math.max(total, done);
      const leaseUntil = new Date(Date.now() + this.options.rescoreLeaseMs);
      if (!(await this.jobs.progress(job._id, this.owner, { cursor: cursor!, done, total }, leaseUntil))) {
        log.warn({ done }, 'rescore lease lost to another replica');
        return;
      }
      if (this.options.rescorePauseMs > 0) await new Promise((r) => setTimeout(r, this.options.rescorePauseMs));
    }
    if (this.stopped) return;
    // Every lead walked: leads counted at the start but gone since still count as done.
    await this.jobs.finish(job._id, this.owner, { done: Math.max(done, total), total, superseded: false }, new Date());
    log.info({ done, total }, 'rescore finished');
  }
}
