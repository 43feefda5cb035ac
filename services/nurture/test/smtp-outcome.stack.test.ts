// When an SMTP send's outcome is unknown, on the real NATS, FerretDB and Mailpit. Between nurture and
// Mailpit sits a TCP path the test steers, as a faulty relay or network would behave:
// - it passes the whole message to Mailpit, then cuts the client off before the "250 queued" reply
//   comes back: Mailpit has the email, nurture cannot know. nurture sends it once more, with the same
//   Message-ID, and says the step may have been delivered twice;
// - it cuts every connection right after the message, before the closing dot reaches Mailpit: the
//   outcome is unknown each time, and after the one extra send the step is given up, visibly;
// - it answers "421 try later" for a minute: a plain refusal, retried until it is accepted, and the
//   email is delivered exactly once.
import { nurture } from '@leadmesh/contracts';
import { stopService, type RunningService } from '../../../test/harness/stack.ts';
import { FaultySmtpPath } from './smtp-path.ts';
import { eventually, leadReceived, mailTo, nurtureStack, testLead, type NurtureStack } from './support.ts';

const NAMESPACE = 'nurture-smtp-outcome';
const PORT_OFFSET = 250;
let stack: NurtureStack;
let service: RunningService | undefined;
const smtp = new FaultySmtpPath();

beforeAll(async () => {
  const port = await smtp.listen();
  stack = await nurtureStack(NAMESPACE, PORT_OFFSET);
  service = await stack.start({
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    // A refusal for a minute, retried every sweep here, stays within the budget.
    NURTURE_MAX_SEND_ATTEMPTS: '1000',
  });
}, 120_000);

afterAll(async () => {
  if (service) await stopService(service);
  await stack?.close();
  await smtp.close();
});

/** The confirmation step of a lead once it is finished (SENT or FAILED), as GetEnrollments shows it. */
async function finishedConfirmation(leadId: string, within: number) {
  return eventually(
    'the confirmation step finished',
    async () => {
      const { enrollments } = await stack.client.getEnrollments({ leadId });
      const step = enrollments.flatMap((e) => e.steps).find((s) => s.stepId === 'confirmation');
      return step && (step.status === nurture.StepStatus.SENT || step.status === nurture.StepStatus.FAILED) ? step : undefined;
    },
    within,
    250,
  );
}

it('sends an email whose reply was lost once more, with the same Message-ID, and records it as possibly duplicated', async () => {
  smtp.inject('lose-reply-to-message', 1);
  const lead = testLead('reply-lost', { formId: 'contact-sales', consent: false });
  await stack.publish(leadReceived(lead));

  const step = await finishedConfirmation(lead.leadId, 60_000);
  expect(step).toMatchObject({ status: nurture.StepStatus.SENT, attempts: 2, possiblyDuplicated: true });
  // SENT is final: no further attempt comes. Both copies are in Mailpit, one Message-ID.
  const copies = await eventually('both copies in Mailpit', async () => {
    const mail = await mailTo(lead.email);
    return mail.length === 2 ? mail : undefined;
  }, 30_000);
  expect(new Set(copies.map((m) => m.MessageID)).size).toBe(1);
}, 120_000);

it('gives an email up, visibly, after one extra send when the outcome is unknown again', async () => {
  smtp.inject('cut-before-dot');
  const lead = testLead('cut-twice', { formId: 'contact-sales', consent: false });
  await stack.publish(leadReceived(lead));

  const step = await finishedConfirmation(lead.leadId, 60_000);
  expect(step).toMatchObject({ status: nurture.StepStatus.FAILED, attempts: 2, possiblyDuplicated: true });
  expect(step.lastError).toMatch(/outcome unknown twice/);
  // Mailpit never got a complete message.
  expect(await mailTo(lead.email)).toEqual([]);
  smtp.inject('none');
}, 120_000);

it('retries a server that refuses mail for a minute until it accepts, and delivers the email once', async () => {
  const refusedUntil = Date.now() + 60_000;
  smtp.inject('refuse');
  const lead = testLead('refused', { formId: 'contact-sales', consent: false });
  await stack.publish(leadReceived(lead));

  // Still refused a while later: the step is waiting, not given up.
  const waiting = await eventually('a refused attempt recorded', async () => {
    const { enrollments } = await stack.client.getEnrollments({ leadId: lead.leadId });
    const step = enrollments.flatMap((e) => e.steps).find((s) => s.stepId === 'confirmation');
    return step && step.attempts >= 2 ? step : undefined;
  }, 30_000);
  expect(waiting.status).toBe(nurture.StepStatus.DUE);
  expect(waiting.lastError).toMatch(/421/);

  await eventually('the minute of refusals over', async () => (Date.now() >= refusedUntil ? true : undefined), 70_000, 500);
  smtp.inject('none');
  const step = await finishedConfirmation(lead.leadId, 30_000);
  expect(step).toMatchObject({ status: nurture.StepStatus.SENT, possiblyDuplicated: false });
  expect(step.attempts).toBeGreaterThan(2);
  const delivered = await eventually('the confirmation in Mailpit', async () => {
    const mail = await mailTo(lead.email);
    return mail.length > 0 ? mail : undefined;
  }, 30_000);
  expect(delivered).toHaveLength(1);
}, 150_000);
