import { classifySendFailure, sendAfterUnknownOutcome, senderDomain, stepMessageId } from './delivery.js';

describe('stepMessageId', () => {
  it('is the same for the same lead, track and step, and differs for any other', () => {
    const id = stepMessageId('lead-1', 'general', 'day-3', 'leadmesh.example');
    expect(id).toMatch(/^<[0-9a-f]{32}\.nurture@leadmesh\.example>$/);
    expect(stepMessageId('lead-1', 'general', 'day-3', 'LeadMesh.Example')).toBe(id);
    expect(new Set([id, stepMessageId('lead-2', 'general', 'day-3', 'leadmesh.example'), stepMessageId('lead-1', 'other', 'day-3', 'leadmesh.example'), stepMessageId('lead-1', 'general', 'day-7', 'leadmesh.example')]).size).toBe(4);
  });

  it('shows no lead data', () => {
    expect(stepMessageId('ada@example.com', 'general', 'day-3', 'leadmesh.example')).not.toContain('ada');
  });

  it('names the empty or unsafe field', () => {
    expect(() => stepMessageId('', 'general', 'day-3', 'x.example')).toThrow(/leadId/);
    expect(() => stepMessageId('l', 'general', 'day-3', 'x.example>\r\nBcc: a@b')).toThrow(/domain/);
  });
});

describe('senderDomain', () => {
  it('reads the host of a From address with or without a display name', () => {
    expect(senderDomain('leadmesh <hello@LeadMesh.example>')).toBe('leadmesh.example');
    expect(senderDomain('hello@mail.leadmesh.example')).toBe('mail.leadmesh.example');
  });

  it('refuses something that is not an address', () => {
    expect(() => senderDomain('leadmesh')).toThrow(/from/);
  });
});

describe('classifySendFailure', () => {
  it('retries when the server did not answer or answered with a temporary 4xx', () => {
    expect(classifySendFailure({})).toBe('retry');
    expect(classifySendFailure({ responseCode: 421, command: 'CONN' })).toBe('retry');
    expect(classifySendFailure({ responseCode: 451, command: 'DATA' })).toBe('retry');
  });

  it('cannot tell whether a send went out when the connection failed after the whole message', () => {
    expect(classifySendFailure({ command: 'CONN', contentHandedOver: true })).toBe('unknown');
    // Before the message was complete the server cannot have accepted it: a plain retry.
    expect(classifySendFailure({ command: 'CONN', contentHandedOver: false })).toBe('retry');
    // An answer decides, whenever it came.
    expect(classifySendFailure({ responseCode: 451, command: 'DATA', contentHandedOver: true })).toBe('retry');
    expect(classifySendFailure({ responseCode: 554, command: 'DATA', contentHandedOver: true })).toBe('give-up');
  });

  it('treats a permanent refusal of the recipient as a hard bounce', () => {
    for (const code of [550, 551, 553]) expect(classifySendFailure({ responseCode: code, command: 'RCPT TO' })).toBe('bounce');
  });

  it('gives up on other permanent refusals', () => {
    expect(classifySendFailure({ responseCode: 552, command: 'DATA' })).toBe('give-up');
    expect(classifySendFailure({ responseCode: 554, command: 'RCPT TO' })).toBe('give-up');
    expect(classifySendFailure({ responseCode: 535, command: 'AUTH PLAIN' })).toBe('give-up');
  });
});

describe('sendAfterUnknownOutcome', () => {
  it('sends an email whose outcome is unknown once more, and never a third time', () => {
    expect(sendAfterUnknownOutcome(false)).toBe('send-once-more');
    expect(sendAfterUnknownOutcome(true)).toBe('give-up');
  });
});
