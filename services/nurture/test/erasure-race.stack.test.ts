// An erasure that arrives while a confirmation email waits to be sent, on the real NATS, FerretDB
// and Mailpit. nurture sends one email at a time here (NURTURE_SCHEDULER_BATCH=1), and the SMTP
// path holds the first lead's email before its closing dot, so the second lead's confirmation,
// already handed over, waits for its turn when the second lead is erased. Released, the first
// email goes out; the erased person gets none, and no step of theirs is left.
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SUBJECTS, events } from '@leadmesh/contracts';
import { NatsClient, createLogger, encodeEvent, topology } from '@leadmesh/platform';
import { stopService, type RunningService } from '../../../test/harness/stack.ts';
import { FaultySmtpPath } from './smtp-path.ts';
import { eventually, leadReceived, mailTo, nurtureStack, testLead, type NurtureStack } from './support.ts';

const NAMESPACE = 'nurture-erasure-race';
const PORT_OFFSET = 260;
let stack: NurtureStack;
let service: RunningService | undefined;
const smtp = new FaultySmtpPath();
const mongo = new MongoClient('mongodb://127.0.0.1:27017/');
const nats = new NatsClient('nats://127.0.0.1:4222', 'nurture-erasure-race-test', createLogger('test', 'silent'), topology(NAMESPACE));
const db = () => mongo.db(`leadmesh_${NAMESPACE.replace(/-/g, '_')}_nurture`);

beforeAll(async () => {
  const port = await smtp.listen();
  stack = await nurtureStack(NAMESPACE, PORT_OFFSET);
  service = await stack.start({ SMTP_URL: `smtp://127.0.0.1:${port}`, NURTURE_SCHEDULER_BATCH: '1' });
  await mongo.connect();
  nats.start();
  await nats.ready();
}, 120_000);

afterAll(async () => {
  smtp.release();
  if (service) await stopService(service);
  await stack?.close();
  await smtp.close();
  await nats.close();
  await mongo.close();
});

const stepsOf = (leadId: string) => db().collection('scheduled_steps').find({ leadId }).toArray();

it('a confirmation handed over and waiting for its turn when the erasure arrives is never sent', async () => {
  const first = testLead('erasure-race-first', { formId: 'contact-sales' });
  const erased = testLead('erasure-race-erased', { formId: 'contact-sales' });

  // The first lead's confirmation is in its SMTP conversation, held before the closing dot.
  smtp.inject('hold-message', 1);
  await stack.publish(leadReceived(first));
  await eventually('the first email held in its SMTP conversation', async () => (smtp.heldMessages() === 1 ? true : undefined), 60_000, 100);

  // The second lead's confirmation is handed over (the lead enrolled) and waits for the one sending slot.
  await stack.publish(leadReceived(erased));
  await eventually('the second lead enrolled', async () => ((await db().collection('lead_nurture').findOne({ _id: erased.leadId as never }))?.enrollments?.length ? true : undefined), 60_000, 100);
  expect(await stepsOf(erased.leadId)).toEqual([]);

  await stack.publish(
    encodeEvent(SUBJECTS.contactErased, events.ContactErasedSchema, { eventId: `contact.erased:${erased.leadId}`, leadId: erased.leadId, occurredAt: timestampFromDate(new Date()), erasureId: randomUUID() }),
  );
  await eventually('nurture finished its part of the erasure', async () => ((await db().collection('erased_leads').findOne({ _id: erased.leadId as never })) ? true : undefined), 60_000, 100);

  smtp.release();
  await eventually('the first email delivered', async () => ((await mailTo(first.email)).length === 1 ? true : undefined), 60_000, 250);
  // The second lead's event is acknowledged once its step was recorded; after that the step is
  // either taken back (no step left) or sent (SENT): wait for one of the two.
  await eventually('the second lead\'s lead.received acknowledged', async () => {
    const info = await nats.jsm.consumers.info(nats.topology.pipelineStream, 'nurture-lead-received');
    return info.num_ack_pending === 0 && info.num_pending === 0 ? true : undefined;
  }, 60_000, 100);
  const left = await eventually('the second lead\'s step settled', async () => {
    const steps = await stepsOf(erased.leadId);
    return steps.length === 0 || steps.every((s) => s.status === 'SENT' || s.status === 'FAILED') ? steps : undefined;
  }, 60_000, 100);

  expect(left).toEqual([]);
  expect(await mailTo(erased.email)).toEqual([]);
  expect(await db().collection('lead_nurture').findOne({ _id: erased.leadId as never })).toMatchObject({ erasedAt: expect.any(Date) });
}, 240_000);
