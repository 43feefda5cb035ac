import fc from 'fast-check';
import type { FieldMapping } from './field-mapping.js';
import { fieldsToRead, movesForward, planUpdate } from './field-ownership.js';

const mapping: FieldMapping = {
  version: 3,
  crm: 'salesforce',
  fields: [
    { from: 'contact.email', to: 'Email', direction: 'BOTH', required: true },
    { from: 'contact.phone', to: 'Phone', direction: 'BOTH' },
    { from: 'contact.company', to: 'Company', direction: 'BOTH', default: '[not provided]' },
    { from: 'score.grade', to: 'Lead_Grade__c', direction: 'TO_CRM' },
    { from: 'score.lifecycleStage', to: 'Status', direction: 'TO_CRM', forwardOnly: ['Open - Not Contacted', 'Working - Contacted'] },
    { from: 'assignment.salesforceUserId', to: 'OwnerId', direction: 'TO_CRM', ownedBy: 'crm' },
    { from: 'consent.emailMarketing', to: 'HasOptedOutOfEmail', direction: 'BOTH', ownedBy: 'leadmesh', forwardOnly: [false, true] },
  ],
};

const written = { Email: 'a@example.com', Phone: '+49 1', Company: '[not provided]', Lead_Grade__c: 'B2', Status: 'Open - Not Contacted', OwnerId: '005A', HasOptedOutOfEmail: false };

describe('field ownership on an update', () => {
  it('does not send a field sales may edit when leadmesh’s value did not change, so a rep’s edit survives a rescore', () => {
    const desired = { ...written, Lead_Grade__c: 'A1' };
    expect(fieldsToRead(desired, mapping, written)).toEqual([]);
    const plan = planUpdate(desired, mapping, written, {});
    expect(plan.send).toEqual({ Lead_Grade__c: 'A1' });
    expect(plan.written).toEqual(desired);
  });

  it('keeps a value sales changed since leadmesh wrote it, and writes one sales left alone', () => {
    const desired = { ...written, Phone: '+49 2', OwnerId: '005B' };
    expect(fieldsToRead(desired, mapping, written).sort()).toEqual(['OwnerId', 'Phone']);
    // The rep changed the owner in the CRM; the phone is still as leadmesh wrote it.
    const plan = planUpdate(desired, mapping, written, { Phone: '+49 1', OwnerId: '005REP' });
    expect(plan.send).toEqual({ Lead_Grade__c: 'B2', Phone: '+49 2' });
    expect(plan.kept).toEqual([{ field: 'OwnerId', reason: 'sales-edit' }]);
    // What leadmesh wrote last stays the comparison for the owner, so the rep's owner keeps winning.
    expect(plan.written.OwnerId).toBe('005A');
    expect(plan.written.Phone).toBe('+49 2');
  });

  it('fills a field that is empty in the CRM', () => {
    const plan = planUpdate({ ...written, Phone: '+49 3' }, mapping, written, { Phone: null });
    expect(plan.send.Phone).toBe('+49 3');
  });

  it('moves Status only forward, and never off a status leadmesh has no rule for', () => {
    const desired = { ...written, Status: 'Working - Contacted' };
    expect(planUpdate(desired, mapping, written, { Status: 'Open - Not Contacted' }).send.Status).toBe('Working - Contacted');
    expect(planUpdate(desired, mapping, written, { Status: 'Closed - Converted' }).kept).toEqual([{ field: 'Status', reason: 'not-forward' }]);
    const back = { ...written, Status: 'Open - Not Contacted' };
    const last = { ...written, Status: 'Working - Contacted' };
    expect(planUpdate(back, mapping, last, { Status: 'Working - Contacted' }).kept).toEqual([{ field: 'Status', reason: 'not-forward' }]);
  });

  it('lets an opt-out through whoever wrote the field last, and never opts a contact back in', () => {
    expect(planUpdate({ ...written, HasOptedOutOfEmail: true }, mapping, written, { HasOptedOutOfEmail: false }).send.HasOptedOutOfEmail).toBe(true);
    const optedOut = { ...written, HasOptedOutOfEmail: true };
    expect(planUpdate(written, mapping, optedOut, { HasOptedOutOfEmail: true }).send).not.toHaveProperty('HasOptedOutOfEmail');
  });

  it('remembers a value the CRM already holds as written (a write whose record was lost to a crash)', () => {
    const plan = planUpdate({ ...written, Phone: '+49 9' }, mapping, written, { Phone: '+49 9' });
    expect(plan.send).not.toHaveProperty('Phone');
    expect(plan.written.Phone).toBe('+49 9');
  });

  it('compares CRM values as text (HubSpot answers every property as a string)', () => {
    expect(movesForward([false, true], 'false', true)).toBe(true);
    expect(movesForward(['NEW', 'OPEN'], 'IN_PROGRESS', 'OPEN')).toBe(false);
    expect(movesForward(['NEW', 'OPEN'], '', 'NEW')).toBe(true);
  });

  it('never sends a guarded field over a CRM value that differs from both what leadmesh wrote and what it wants', () => {
    const text = fc.string({ minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(text, text, text, (last, next, now) => {
        const plan = planUpdate({ Phone: next }, mapping, { Phone: last }, { Phone: now });
        if (now !== last && now !== next) expect(plan.send).not.toHaveProperty('Phone');
        if (now === last && last !== next) expect(plan.send.Phone).toBe(next);
      }),
    );
  });
});
