// An erasure that arrives after a lead's confirmation step was handed to the sender and before the
// email went out (waiting for a sending slot, or handed over from a read the erasure followed, as
// the sweep's is), against the real FerretDB and a mailer that records what it is given: the
// erased person gets no email and no step of theirs is left.
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { events } from '@leadmesh/contracts';
import { Metrics, createLogger, type EventContext } from '@leadmesh/platform';
import { keptInOutbox, testStore } from '../../../test/harness/store.ts';
import { EnrollmentStore } from '../src/enrollment.store.js';
import type { Mailer, OutgoingEmail } from '../src/mailer.js';
import { NurtureService } from '../src/nurture.service.js';
import { loadNurtureSettings } from '../src/nurture.settings.js';
import { StepSender } from '../src/step.sender.js';
import { StepStore } from '../src/step.store.js';
import { TrackRegistry } from '../src/track.registry.js';

const db = testStore('nurture-erasure-race');
const logger = createLogger('nurture-erasure-race', 'silent');
let leads: EnrollmentStore;
let steps: StepStore;

beforeAll(async () => {
  await db.start();
  leads = new EnrollmentStore(db.store, keptInOutbox);
  steps = new StepStore(db.store, keptInOutbox);
}, 60_000);

afterAll(() => db.stop());

/** A mailer that takes each email and answers once `open()` is called; `to` lists what it was given. */
function gatedMailer() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const to: string[] = [];
  const mailer = { send: async (email: OutgoingEmail) => { to.push(email.to); await gate; } } as unknown as Mailer;
  return { mailer, to, open };
}

/** Nurture's service and sender with one SMTP conversation at a time (NURTURE_SCHEDULER_BATCH=1). */
function nurtureWith(mailer: Mailer) {
  const settings = loadNurtureSettings({ UNSUBSCRIBE_SECRET: 'erasure-race-unsubscribe-secret', NURTURE_SCHEDULER_BATCH: '1' });
  const registry = new TrackRegistry();
  const metrics = new Metrics(`nurture-erasure-race-${randomUUID()}`);
  const nurture = new NurtureService(leads, steps, registry, settings, metrics);
  const sender = new StepSender(leads, steps, registry, mailer, nurture, settings, logger, metrics);
  return { nurture, sender };
}

/** A Contact Sales submission, as lead.received carries it: its confirmation email is due at once. */
function contactSales() {
  const leadId = randomUUID();
  const email = `erin.${leadId.slice(0, 8)}@example-erasure.com`;
  const event = create(events.LeadReceivedSchema, {
    eventId: `lead.received:${leadId}`,
    leadId,
    occurredAt: timestampFromDate(new Date()),
    submissionId: randomUUID(),
    newLead: true,
    profile: {
      contact: { email, firstName: 'Erin', lastName: 'Erased', company: 'Forget Me GmbH' },
      source: { formId: 'contact-sales' },
      consent: { emailMarketing: true, wordingVersion: '2026-01' },
    },
  });
  const ctx: EventContext = { subject: 'leadmesh.lead.received', eventId: event.eventId, deliveryCount: 1, streamSequence: 1 };
  return { leadId, email, event, ctx };
}

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('an erasure racing a nurture email', () => {
  it('a confirmation waiting for a sending slot when the erasure arrives is never sent, and its step is not left behind', async () => {
    const { mailer, to, open } = gatedMailer();
    const { nurture, sender } = nurtureWith(mailer);
    const busy = contactSales();
    const erased = contactSales();

    // The one SMTP conversation is taken by another lead's confirmation.
    await sender.take(await nurture.onLeadReceived(busy.event, busy.ctx));
    await until('the first email is with the mailer', () => to.length === 1);
    // The erased lead's confirmation is handed over and waits for the slot.
    const handoff = await nurture.onLeadReceived(erased.event, erased.ctx);
    expect(handoff?.steps).toHaveLength(1);
    const taking = sender.take(handoff);

    await nurture.forget(erased.leadId);
    open();
    await taking;
    await sender.idle();

    expect(to).toEqual([busy.email]);
    expect(await steps.forLead(erased.leadId)).toEqual([]);
    expect(await leads.find(erased.leadId)).toBeNull();
    expect(await steps.forLead(busy.leadId)).toEqual([expect.objectContaining({ status: 'SENT' })]);
  });

  it('a step handed over from a read the erasure followed (as the sweep reads due leads) is taken back, not sent', async () => {
    const { mailer, to, open } = gatedMailer();
    open();
    const { nurture, sender } = nurtureWith(mailer);
    const person = contactSales();
    const handoff = await nurture.onLeadReceived(person.event, person.ctx);

    await nurture.forget(person.leadId);
    await sender.take(handoff);
    await sender.idle();

    expect(to).toEqual([]);
    expect(await steps.forLead(person.leadId)).toEqual([]);
    expect(await leads.isErased(person.leadId)).toBe(true);
  });
});
