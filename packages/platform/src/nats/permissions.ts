import { SUBJECTS } from '@leadmesh/contracts';
import type { ServiceName } from '../config.js';
import { topology as makeTopology } from './streams.js';

/**
 * Who may do what on the event backbone. Each service connects to NATS as its own user, allowed to
 * publish only the subjects it owns and to consume only what it needs (DESIGN.md). This table is
 * the one source: the NATS server configurations (deploy/local and deploy/k8s) are generated from
 * it (`node scripts/nats-config.ts`), and a test fails when they differ or when a service
 * registers a consumer or publishes a subject the table does not grant.
 */
export interface BackboneGrant {
  /** Contract subjects the service publishes (leadmesh.<entity>.<event>). */
  publishes: string[];
  /** Its durable consumers and the one subject each reads. */
  consumes: Array<{ durable: string; subject: string }>;
}

/** Every service takes part in erasure: contact.erased in, erasure.completed out. */
const erasure = (service: ServiceName): BackboneGrant => ({
  publishes: [SUBJECTS.erasureCompleted],
  consumes: [{ durable: `${service}-contact-erased`, subject: SUBJECTS.contactErased }],
});

const own: Record<ServiceName, BackboneGrant> = {
  intake: {
    publishes: [SUBJECTS.leadReceived, SUBJECTS.activityRecorded, SUBJECTS.contactErased],
    consumes: [{ durable: 'intake-erasure-completed', subject: SUBJECTS.erasureCompleted }],
  },
  scoring: {
    publishes: [SUBJECTS.leadScored],
    consumes: [
      { durable: 'scoring-lead-received', subject: SUBJECTS.leadReceived },
      { durable: 'scoring-activity-recorded', subject: SUBJECTS.activityRecorded },
    ],
  },
  routing: {
    publishes: [SUBJECTS.leadRouted, SUBJECTS.leadReassigned],
    consumes: [
      { durable: 'routing-lead-scored', subject: SUBJECTS.leadScored },
      { durable: 'routing-crm-lead-changed', subject: SUBJECTS.crmLeadChanged },
      { durable: 'routing-crm-account-changed', subject: SUBJECTS.crmAccountChanged },
    ],
  },
  nurture: {
    publishes: [SUBJECTS.nurtureEnrolled, SUBJECTS.emailSent, SUBJECTS.leadUnsubscribed],
    consumes: [
      { durable: 'nurture-lead-received', subject: SUBJECTS.leadReceived },
      { durable: 'nurture-lead-scored', subject: SUBJECTS.leadScored },
      { durable: 'nurture-lead-routed', subject: SUBJECTS.leadRouted },
    ],
  },
  'crm-sync': {
    publishes: [SUBJECTS.crmSynced, SUBJECTS.crmSyncFailed, SUBJECTS.crmLeadChanged, SUBJECTS.crmAccountChanged],
    consumes: [
      { durable: 'crm-sync-lead-routed', subject: SUBJECTS.leadRouted },
      { durable: 'crm-sync-lead-scored', subject: SUBJECTS.leadScored },
      { durable: 'crm-sync-lead-reassigned', subject: SUBJECTS.leadReassigned },
      { durable: 'crm-sync-nurture-enrolled', subject: SUBJECTS.nurtureEnrolled },
      { durable: 'crm-sync-lead-unsubscribed', subject: SUBJECTS.leadUnsubscribed },
    ],
  },
};

export const BACKBONE_SERVICES = Object.keys(own) as ServiceName[];

export function backboneGrant(service: ServiceName): BackboneGrant {
  const e = erasure(service);
  return { publishes: [...own[service].publishes, ...e.publishes], consumes: [...own[service].consumes, ...e.consumes] };
}

/** The user that creates and changes the streams (provisioning), and operators' tools and tests. */
export const BACKBONE_ADMIN = 'admin';

/** A service's replies (JetStream acks, pulled messages) come to its own inbox, which no other user may read. */
export function inboxPrefix(service: ServiceName): string {
  return `_INBOX_${service.replace(/-/g, '_')}`;
}

export interface NatsPermissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[] };
}

/**
 * A service's permissions. `namespaces` also admits one namespace token in front of each subject
 * and any stream name (LEADMESH_NAMESPACE: test runs with their own streams on one local server);
 * without it every stream is named exactly, as in a cluster.
 */
export function servicePermissions(service: ServiceName, options: { namespaces: boolean }): NatsPermissions {
  const grant = backboneGrant(service);
  const t = makeTopology('');
  const pipeline = options.namespaces ? '*' : t.pipelineStream;
  const deadLetters = options.namespaces ? '*' : t.deadLetterStream;
  const subjects = (s: string) => (options.namespaces ? [s, `*.${s}`] : [s]);
  const publish = new Set<string>();
  for (const subject of grant.publishes) for (const s of subjects(subject)) publish.add(s);
  // The broker probe (account info), and whether the streams exist; never their creation or change.
  publish.add('$JS.API.INFO');
  publish.add(`$JS.API.STREAM.INFO.${pipeline}`);
  publish.add(`$JS.API.STREAM.INFO.${deadLetters}`);
  for (const { durable, subject } of grant.consumes) {
    // Its own durable consumers, each bound to its subject by the create request's own subject.
    for (const s of subjects(subject)) publish.add(`$JS.API.CONSUMER.CREATE.${pipeline}.${durable}.${s}`);
    publish.add(`$JS.API.CONSUMER.INFO.${pipeline}.${durable}`);
    publish.add(`$JS.API.CONSUMER.MSG.NEXT.${pipeline}.${durable}`);
    publish.add(`$JS.ACK.${pipeline}.${durable}.>`);
    // Parking an event that failed on its merits.
    for (const s of subjects(t.deadLetterSubject(durable))) publish.add(s);
  }
  // Listing and replaying its parked events (ParkedEventsService); the replay removes the message.
  publish.add(`$JS.API.DIRECT.GET.${deadLetters}`);
  publish.add(`$JS.API.STREAM.MSG.GET.${deadLetters}`);
  publish.add(`$JS.API.STREAM.MSG.DELETE.${deadLetters}`);
  // The contact-keys bucket (crypto-shredding): every service reads a contact's key, from the
  // stream leader, to open and seal events; only intake, which issues and shreds the keys, writes.
  const keys = options.namespaces ? '*' : `KV_${t.contactKeysBucket}`;
  publish.add(`$JS.API.STREAM.INFO.${keys}`);
  publish.add(`$JS.API.STREAM.MSG.GET.${keys}`);
  if (service === 'intake') publish.add(options.namespaces ? '$KV.*.>' : `$KV.${t.contactKeysBucket}.>`);
  // With namespaces the stream names are wildcards; the default namespace's pipeline stream stays
  // unreadable by message, as in a cluster (a test namespace's is test data).
  const deny = options.namespaces ? [`$JS.API.DIRECT.GET.${t.pipelineStream}`, `$JS.API.STREAM.MSG.GET.${t.pipelineStream}`, `$JS.API.STREAM.MSG.DELETE.${t.pipelineStream}`] : [];
  return { publish: { allow: [...publish], deny }, subscribe: { allow: [`${inboxPrefix(service)}.>`] } };
}

/** The environment variable holding a user's public nkey in the server's configuration. */
export function nkeyVariable(user: ServiceName | typeof BACKBONE_ADMIN): string {
  return `LEADMESH_NATS_NKEY_${user.toUpperCase().replace(/-/g, '_')}`;
}

/** The server's `authorization` block: one nkey user per service and the admin, public keys from the environment. */
export function renderAuthorization(options: { namespaces: boolean }): string {
  const lines = [
    '# Generated by `node scripts/nats-config.ts` from packages/platform/src/nats/permissions.ts: do not edit.',
    '# One nkey user per service (public keys from the environment; each seed stays with its service),',
    '# allowed to publish only the subjects it owns and to consume only its own durable consumers.',
    'authorization {',
    '  users: [',
    `    # Provisioning (creates and changes the streams), operators' tools and tests.`,
    `    { nkey: $${nkeyVariable(BACKBONE_ADMIN)}, permissions: { publish: { allow: [">"] }, subscribe: { allow: [">"] } } }`,
  ];
  for (const service of BACKBONE_SERVICES) {
    const p = servicePermissions(service, options);
    lines.push(`    # ${service}`);
    lines.push(`    { nkey: $${nkeyVariable(service)}, permissions: {`);
    lines.push(`      publish: { allow: [`);
    for (const s of p.publish.allow) lines.push(`        ${JSON.stringify(s)}`);
    lines.push(`      ]${p.publish.deny.length ? `, deny: [${p.publish.deny.map((s) => JSON.stringify(s)).join(', ')}]` : ''} }`);
    lines.push(`      subscribe: { allow: [${p.subscribe.allow.map((s) => JSON.stringify(s)).join(', ')}] }`);
    lines.push(`    } }`);
  }
  lines.push('  ]', '}', '');
  return lines.join('\n');
}
