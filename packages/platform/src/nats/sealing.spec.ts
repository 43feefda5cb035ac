import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { events } from '@leadmesh/contracts';
import { PoisonEventError } from '../failures.js';
import type { ContactKeys, KeyLookup } from './contact-keys.js';
import { EventSealing } from './contact-keys.js';
import { encodeEvent } from './publisher.js';
import { SealBrokenError, contactKeyId, hasOpenPersonalData, newContactKey, openEvent, personalSlots, sealEvent, sealedPart } from './sealing.js';

const LEAD = '5b0d7c1e-2f4a-4d47-9a51-3c8e1f0a9b21';
const EMAIL = 'ada.lovelace@analytical-engines.example';

const routed = (leadId = LEAD) =>
  create(events.LeadRoutedSchema, {
    eventId: `lead.routed:${leadId}`,
    leadId,
    profile: { contact: { email: EMAIL, firstName: 'Ada', lastName: 'Lovelace', jobTitle: 'VP Engineering', company: 'Analytical Engines' } },
    score: { leadId, fitScore: 80, grade: 'A1', reasons: [{ ruleId: 'seniority-vp', points: 20, explanation: "Job title 'VP Engineering' matches seniority 'VP'" }] },
    assignment: { leadId, ownerId: 'owner-7', ownerName: 'Grace Hopper' },
  });

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

describe('sealing the personal fields of an event', () => {
  const key = newContactKey(contactKeyId(LEAD));

  it('moves profile and score into `sealed`, leaving no personal data readable in the payload', () => {
    const event = routed();
    expect(sealEvent(events.LeadRoutedSchema, event, key)).toBe(true);
    const wire = toBinary(events.LeadRoutedSchema, event);
    for (const clear of [EMAIL, 'Lovelace', 'VP Engineering', 'Analytical Engines']) expect(text(wire)).not.toContain(clear);
    const decoded = fromBinary(events.LeadRoutedSchema, wire);
    expect(decoded.profile).toBeUndefined();
    expect(decoded.score).toBeUndefined();
    // Not personal: the owner (an employee), the ids, stay readable for routing of the event itself.
    expect(decoded.assignment?.ownerId).toBe('owner-7');
    expect(decoded.sealed?.keyId).toBe(key.keyId);
  });

  it('opens back to the very same event with the contact key', () => {
    const original = routed();
    const event = fromBinary(events.LeadRoutedSchema, toBinary(events.LeadRoutedSchema, original));
    sealEvent(events.LeadRoutedSchema, event, key);
    const received = fromBinary(events.LeadRoutedSchema, toBinary(events.LeadRoutedSchema, event));
    openEvent(events.LeadRoutedSchema, received, key);
    expect(received.sealed).toBeUndefined();
    expect(toBinary(events.LeadRoutedSchema, received)).toEqual(toBinary(events.LeadRoutedSchema, original));
  });

  it('uses a fresh nonce for every seal', () => {
    const a = routed();
    const b = routed();
    sealEvent(events.LeadRoutedSchema, a, key);
    sealEvent(events.LeadRoutedSchema, b, key);
    expect(Buffer.from(a.sealed!.nonce)).not.toEqual(Buffer.from(b.sealed!.nonce));
    expect(Buffer.from(a.sealed!.ciphertext)).not.toEqual(Buffer.from(b.sealed!.ciphertext));
  });

  it('does not open with another key, nor tampered, nor moved to another lead or event type', () => {
    const sealed = () => {
      const e = routed();
      sealEvent(events.LeadRoutedSchema, e, key);
      return e;
    };
    expect(() => openEvent(events.LeadRoutedSchema, sealed(), { keyId: key.keyId, key: newContactKey('x').key })).toThrow(SealBrokenError);
    const tampered = sealed();
    tampered.sealed!.ciphertext[3]! ^= 0x01;
    expect(() => openEvent(events.LeadRoutedSchema, tampered, key)).toThrow(SealBrokenError);
    const moved = sealed();
    moved.leadId = 'another-lead';
    expect(() => openEvent(events.LeadRoutedSchema, moved, key)).toThrow(SealBrokenError);
    const asReassigned = create(events.LeadReassignedSchema, { leadId: LEAD, sealed: sealed().sealed });
    expect(() => openEvent(events.LeadReassignedSchema, asReassigned, key)).toThrow(SealBrokenError);
  });

  it('seals the page a known lead visited on activity.recorded', () => {
    const activity = create(events.ActivityRecordedSchema, { leadId: LEAD, activityId: 'a1', activityType: 'ACTIVITY_TYPE_PRICING_PAGE_VIEW', url: 'https://www.example.com/pricing' });
    expect(sealEvent(events.ActivityRecordedSchema, activity, key)).toBe(true);
    expect(activity.url).toBe('');
    expect(activity.activityType).toBe('ACTIVITY_TYPE_PRICING_PAGE_VIEW');
    openEvent(events.ActivityRecordedSchema, activity, key);
    expect(activity.url).toBe('https://www.example.com/pricing');
  });

  it('leaves events without personal fields alone', () => {
    expect(personalSlots(events.EmailSentSchema)).toEqual([]);
    expect(personalSlots(events.ContactErasedSchema)).toEqual([]);
    expect(personalSlots(events.LeadScoredSchema).map((s) => s.field.name)).toEqual(['profile', 'score']);
    const bare = create(events.LeadScoredSchema, { leadId: LEAD, becameMql: true });
    expect(hasOpenPersonalData(events.LeadScoredSchema, bare)).toBe(false);
    expect(sealEvent(events.LeadScoredSchema, bare, key)).toBe(false);
    expect(sealedPart(events.LeadScoredSchema, bare)).toBeUndefined();
  });
});

/** ContactKeys as the bucket would answer, without a broker. */
function keysAnswering(answer: KeyLookup): ContactKeys & { issued: string[]; looked: string[] } {
  const fake = {
    issued: [] as string[],
    looked: [] as string[],
    lookup: async (leadId: string) => (fake.looked.push(leadId), answer),
    issue: async (leadId: string) => (fake.issued.push(leadId), answer),
  };
  return fake as unknown as ContactKeys & { issued: string[]; looked: string[] };
}

describe('EventSealing: the one place events are sealed and opened', () => {
  const key = newContactKey(contactKeyId(LEAD));
  const outgoing = () => encodeEvent('leadmesh.lead.routed', events.LeadRoutedSchema, routed());

  it('seals what a service publishes with the key the bucket holds; intake issues it', async () => {
    for (const issuer of [false, true]) {
      const keys = keysAnswering({ state: 'live', key });
      const payload = await new EventSealing(keys, issuer).seal(outgoing());
      expect(text(payload!)).not.toContain(EMAIL);
      expect(issuer ? keys.issued : keys.looked).toEqual([LEAD]);
      const received = fromBinary(events.LeadRoutedSchema, payload!);
      expect(await new EventSealing(keysAnswering({ state: 'live', key }), false).open(events.LeadRoutedSchema, received)).toBe('open');
      expect(received.profile?.contact?.email).toBe(EMAIL);
    }
  });

  it('publishes nothing about a contact whose key is shredded', async () => {
    expect(await new EventSealing(keysAnswering({ state: 'shredded' }), true).seal(outgoing())).toBeNull();
  });

  it('costs no key for an event without personal data', async () => {
    const keys = keysAnswering({ state: 'live', key });
    const sent = encodeEvent('leadmesh.email.sent', events.EmailSentSchema, { eventId: 'e1', leadId: LEAD, template: 'welcome' });
    expect(await new EventSealing(keys, true).seal(sent)).toBe(sent.payload);
    expect([...keys.issued, ...keys.looked]).toEqual([]);
  });

  it('tells an erased contact apart from a failure: shredded is "erased", a never-issued key is an ordinary failure, a foreign key poison', async () => {
    const sealedEvent = () => {
      const e = routed();
      sealEvent(events.LeadRoutedSchema, e, key);
      return e;
    };
    expect(await new EventSealing(keysAnswering({ state: 'shredded' }), false).open(events.LeadRoutedSchema, sealedEvent())).toBe('erased');
    const missing = new EventSealing(keysAnswering({ state: 'missing' }), false).open(events.LeadRoutedSchema, sealedEvent());
    await expect(missing).rejects.toThrow(/no contact key/);
    await expect(missing).rejects.not.toBeInstanceOf(PoisonEventError);
    const foreign = sealedEvent();
    foreign.sealed!.keyId = contactKeyId('someone-else');
    await expect(new EventSealing(keysAnswering({ state: 'live', key }), false).open(events.LeadRoutedSchema, foreign)).rejects.toBeInstanceOf(PoisonEventError);
    const forged = sealedEvent();
    forged.sealed!.ciphertext[0]! ^= 0xff;
    await expect(new EventSealing(keysAnswering({ state: 'live', key }), false).open(events.LeadRoutedSchema, forged)).rejects.toBeInstanceOf(PoisonEventError);
  });

  it('hands an event that came in clear (from before sealing) to its handler as it is', async () => {
    const clear = routed();
    const keys = keysAnswering({ state: 'shredded' });
    expect(await new EventSealing(keys, false).open(events.LeadRoutedSchema, clear)).toBe('open');
    expect(clear.profile?.contact?.email).toBe(EMAIL);
    expect(keys.looked).toEqual([]);
  });
});
