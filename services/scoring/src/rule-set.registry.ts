import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LOGGER, NotFoundError, PeriodicWork, Readiness, UnavailableError, type Logger } from '@leadmesh/platform';
import type { RuleSet } from './domain/rule-set.js';
import { readRuleSetDocument, ruleSetFingerprint } from './rules/rule-set-document.js';
import { readRuleSetFiles, type RuleSetFile } from './rules/rule-set-files.js';
import { RuleSetStore } from './rule-set.store.js';
import { SCORING_OPTIONS, type ScoringOptions } from './scoring.options.js';

const READY_TIMEOUT_MS = 5000;

/**
 * The rule sets as this replica sees them. Versions are immutable, so a parsed version is cached for
 * good; which version is active lives in the store and is re-read every few seconds, so scoring a
 * lead never waits on the store for its rules.
 */
@Injectable()
export class RuleSetRegistry implements OnModuleInit, OnModuleDestroy {
  private readonly files: RuleSetFile[];
  private readonly parsed = new Map<string, RuleSet>();
  private activeVersion?: string;
  private initialized?: Promise<void>;
  private readonly refresher: PeriodicWork;

  constructor(
    @Inject(RuleSetStore) private readonly store: RuleSetStore,
    @Inject(SCORING_OPTIONS) private readonly options: ScoringOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(Readiness) private readonly readiness: Readiness,
  ) {
    // A bad file stops the start here, naming the file.
    this.files = readRuleSetFiles(options.rulesDir);
    for (const file of this.files) this.parsed.set(file.ruleSet.version, file.ruleSet);
    this.refresher = new PeriodicWork('active rule set refresh', () => this.refresh(), { everyMs: options.settingsRefreshMs, logger });
  }

  onModuleInit(): void {
    // No SERVING before the rule sets are in the store and the active version is known.
    this.readiness.hold('rule sets loaded', this.loaded());
    void this.loaded().then(
      () => {
        this.refresher.start();
      },
      (err: Error) => {
        // Serving scores from rules that disagree with the store would be worse than not serving.
        this.logger.fatal({ err: err.message }, 'rule sets cannot be loaded; stopping');
        setTimeout(() => process.exit(1), 100);
      },
    );
  }

  /** Resolves once the files are in the store and the active version is known, however long the store takes. */
  loaded(): Promise<void> {
    this.initialized ??= this.store.store.ready().then(() => this.seed());
    return this.initialized;
  }

  onModuleDestroy(): Promise<void> {
    return this.refresher.stop();
  }

  /** As loaded(), but a caller with a deadline (an RPC, an event to retry) is told UNAVAILABLE instead of waiting on. */
  async ready(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UnavailableError('rule sets are not loaded yet (store not reachable)')), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.loaded(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async active(): Promise<RuleSet> {
    await this.ready();
    return this.get(this.activeVersion!);
  }

  async activeVersionName(): Promise<string> {
    await this.ready();
    return this.activeVersion!;
  }

  async get(version: string): Promise<RuleSet> {
    const cached = this.parsed.get(version);
    if (cached) return cached;
    const doc = await this.store.find(version);
    if (!doc) throw new NotFoundError(`rule set ${version}`);
    const ruleSet = readRuleSetDocument(doc.document, `rule set ${version}`);
    this.parsed.set(version, ruleSet);
    return ruleSet;
  }

  /** Re-reads the active version from the store (on a timer, and when a rescore starts). */
  async refresh(): Promise<string> {
    const settings = await this.store.activeSettings();
    if (settings && settings.activeVersion !== this.activeVersion) {
      await this.get(settings.activeVersion);
      if (this.activeVersion) this.logger.info({ from: this.activeVersion, to: settings.activeVersion }, 'active rule set changed');
      this.activeVersion = settings.activeVersion;
    }
    if (!this.activeVersion) throw new Error('no active rule set in the store');
    return this.activeVersion;
  }

  /** Stores the repo's rule-set files (an existing version must be the same rule set) and settles the active version. */
  private async seed(): Promise<void> {
    const now = new Date();
    for (const file of this.files) {
      const { version, description } = file.ruleSet;
      const fingerprint = ruleSetFingerprint(file.ruleSet);
      const { stored, created } = await this.store.insert({ _id: version, description, document: file.document, fingerprint, publishedAt: now });
      if (!created && stored.fingerprint !== fingerprint) {
        throw new Error(
          `rule set ${version} in ${file.path} differs from the stored rule set ${version}; a published version never changes, publish the change as a new version`,
        );
      }
    }
    if (!(await this.store.activeSettings())) {
      const initial = this.options.initialActiveVersion ?? this.files.at(-1)?.ruleSet.version;
      if (!initial) throw new Error(`no rule sets in ${this.options.rulesDir} and none active in the store`);
      await this.get(initial).catch(() => {
        throw new Error(`SCORING_ACTIVE_RULE_SET names rule set ${initial}, which is neither a file in ${this.options.rulesDir} nor stored`);
      });
      await this.store.initActive(initial, now);
    }
    const active = await this.refresh();
    if (this.options.initialActiveVersion && this.options.initialActiveVersion !== active) {
      this.logger.info({ active, requested: this.options.initialActiveVersion }, 'SCORING_ACTIVE_RULE_SET ignored: the store already has an active rule set');
    }
    this.logger.info({ active, files: this.files.map((f) => f.ruleSet.version) }, 'rule sets loaded');
  }

  /** Caches a version just published here, so using it needs no store read. */
  remember(ruleSet: RuleSet): void {
    this.parsed.set(ruleSet.version, ruleSet);
  }
}
