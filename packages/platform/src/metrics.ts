import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every command this process sends to its store, counted from the driver's command-started events
 * (MongoStore): what a lead costs the store is read here, not estimated. One counter per process,
 * as the process metrics are, because the store and the registry are made apart; every Metrics
 * registry of the process exports it.
 */
export const storeCommands = new Counter({
  name: 'leadmesh_store_commands_total',
  help: 'Commands sent to the store (MongoDB protocol), by command name and collection',
  labelNames: ['command', 'collection'] as const,
  registers: [],
});

/** What one SMTP send attempt came to (leadmesh_email_sends_total's `outcome`). */
export const EMAIL_SEND_OUTCOMES = ['sent', 'retry', 'bounce', 'failed'] as const;
export type EmailSendOutcome = (typeof EMAIL_SEND_OUTCOMES)[number];

// One registry per service, served on its own port so Prometheus scrapes each service apart.
export class Metrics {
  readonly registry = new Registry();

  readonly rpcDuration = new Histogram({
    name: 'leadmesh_rpc_duration_seconds',
    help: 'gRPC server call duration by method and status code',
    labelNames: ['method', 'code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly eventsHandled = new Counter({
    name: 'leadmesh_events_handled_total',
    help: 'Events handled by consumer and outcome (ack, retry, dead_letter)',
    labelNames: ['consumer', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly eventDuration = new Histogram({
    name: 'leadmesh_event_duration_seconds',
    help: 'Event handling duration by consumer',
    labelNames: ['consumer'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /**
   * Where the contact keys that seal and open events came from: `cache` (this replica's memory),
   * `bucket` (one read of the contact-keys bucket on the broker), `issued` (intake made a new one),
   * `shredded` (erased: nothing opens), `missing` (never issued: an event from before sealing).
   */
  readonly contactKeyLookups = new Counter({
    name: 'leadmesh_contact_key_lookups_total',
    help: 'Contact key lookups for sealing and opening events, by where the answer came from',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly redeliveries = new Counter({
    name: 'leadmesh_event_redeliveries_total',
    help: 'Events delivered more than once, by consumer',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });

  readonly deadLetters = new Counter({
    name: 'leadmesh_dead_letters_total',
    help: 'Events parked in the dead-letter stream, by consumer',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });

  /** What waits in the dead-letter stream now: the counter above says what arrived, this what is left after replays. */
  readonly parkedEvents = new Gauge({
    name: 'leadmesh_parked_events',
    help: 'Events of this consumer held in the dead-letter stream, waiting for a replay',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });

  readonly consumerLag = new Gauge({
    name: 'leadmesh_consumer_pending_messages',
    help: 'Messages in the stream not yet delivered to the consumer',
    labelNames: ['consumer'] as const,
    registers: [this.registry],
  });

  readonly newestLeadFinished = new Gauge({
    name: 'leadmesh_newest_lead_finished_timestamp_seconds',
    help: 'When this service last finished its work on a lead; alert on time() minus this',
    registers: [this.registry],
  });

  // Written on every change of the gRPC health status, so an alert sees a replica that is up but
  // cannot do its job (store or broker away), which a scrape's `up` alone does not show.
  readonly serving = new Gauge({
    name: 'leadmesh_serving',
    help: '1 while the gRPC health service reports SERVING, 0 while NOT_SERVING',
    registers: [this.registry],
  });

  // The CRM service-level objective (99% of leads in the CRM within 60 s of submission) is read
  // from the 60 s bucket, so 60 must stay a bucket boundary.
  readonly submissionToCrm = new Histogram({
    name: 'leadmesh_lead_submission_to_crm_seconds',
    help: 'Time from the lead\'s submission at intake to its first successful CRM sync',
    buckets: [1, 2.5, 5, 10, 20, 30, 45, 60, 90, 120, 300, 600, 1800],
    registers: [this.registry],
  });

  // nurture: every SMTP send attempt's outcome. `sent`, or why not: `retry` (temporary, sent again
  // later), `bounce` (the recipient refused, the address suppressed), `failed` (given up). By track
  // kind, so the transactional confirmation reads apart from marketing mail.
  /** crm-sync: a lead synced with a named problem left for someone to fix (e.g. OWNER_NOT_MAPPED). */
  readonly crmSyncIssues = new Counter({
    name: 'leadmesh_crm_sync_issues_total',
    help: 'CRM syncs that left a field out for a named reason, by CRM and issue code',
    labelNames: ['crm', 'code'] as const,
    registers: [this.registry],
  });

  readonly emailSends = new Counter({
    name: 'leadmesh_email_sends_total',
    help: 'Email send attempts by track kind and outcome (sent, retry, bounce, failed)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  // The confirmation-email objective (99% within 30 s of being due) is read from the 30 s bucket,
  // so 30 must stay a bucket boundary.
  readonly emailSendDelay = new Histogram({
    name: 'leadmesh_email_send_delay_seconds',
    help: 'How long after its step was due an email was accepted by the SMTP server, by track kind',
    labelNames: ['kind'] as const,
    buckets: [0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 900, 3600],
    registers: [this.registry],
  });

  readonly outboxPending = new Gauge({
    name: 'leadmesh_outbox_pending_events',
    help: 'Events stored but not yet confirmed published',
    registers: [this.registry],
  });

  readonly storeCommands = storeCommands;

  private server?: Server;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.registry.registerMetric(storeCommands);
  }

  leadFinished(): void {
    this.newestLeadFinished.set(Date.now() / 1000);
  }

  /** crm-sync's last step for a lead: it is in the CRM, `seconds` after it was submitted. */
  leadSyncedToCrm(seconds: number): void {
    this.submissionToCrm.observe(seconds);
    this.leadFinished();
  }

  /**
   * nurture, at start: every kind's series exist from zero, so a rate reads 0 rather than nothing
   * before the first email, and the first failure after a restart is an increase a rule can see.
   */
  emailKinds(kinds: readonly string[]): void {
    for (const kind of kinds) {
      this.emailSendDelay.zero({ kind });
      for (const outcome of EMAIL_SEND_OUTCOMES) this.emailSends.inc({ kind, outcome }, 0);
    }
  }

  /** nurture: the SMTP server accepted an email of this kind, `lateSeconds` after its step was due. */
  emailSent(kind: string, lateSeconds: number): void {
    this.emailSends.inc({ kind, outcome: 'sent' });
    // A clock step between replicas can make it negative; it was not late.
    this.emailSendDelay.observe({ kind }, Math.max(0, lateSeconds));
  }

  /** nurture: an email of this kind did not go out on this attempt, and what follows. */
  emailNotSent(kind: string, outcome: Exclude<EmailSendOutcome, 'sent'>): void {
    this.emailSends.inc({ kind, outcome });
  }

  async listen(host: string, port: number): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body))
        .catch((err: Error) => res.writeHead(500).end(err.message));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject).listen(port, host, () => resolve());
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
