import { randomBytes, createCipheriv, createDecipheriv } from 'node:crypto';
import { create, fromBinary, toBinary, type DescField, type DescMessage, type Message } from '@bufbuild/protobuf';
import { events } from '@leadmesh/contracts';

/**
 * Crypto-shredding of the personal fields of events (leadmesh.events.v1.SealedPersonalData): the
 * fields an event shares by name with PersonalData (profile, score, url) travel encrypted with the
 * contact's own key, and the event's `sealed` field holds them. Pure: the keys come from ContactKeys.
 */

/** A contact's data key: 32 random bytes for AES-256-GCM, and its name in the contact-keys bucket. */
export interface ContactKey {
  keyId: string;
  key: Uint8Array;
}

export const CONTACT_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed copy that its key does not open: forged, damaged, or moved to another event. */
export class SealBrokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealBrokenError';
  }
}

export function newContactKey(keyId: string): ContactKey {
  return { keyId, key: randomBytes(CONTACT_KEY_BYTES) };
}

/** The key's name in the bucket for a lead id: KV keys allow fewer characters than lead ids may hold. */
export function contactKeyId(leadId: string): string {
  return Buffer.from(leadId, 'utf8').toString('base64url');
}

interface PersonalSlot {
  /** The event's own field. */
  field: DescField;
  /** The same field of PersonalData. */
  personal: DescField;
}

const slotsBySchema = new Map<string, PersonalSlot[]>();

/**
 * The event's fields that PersonalData holds when sealed: same name and kind in both. Empty for an
 * event without a `sealed` field (it carries no personal data).
 */
export function personalSlots(schema: DescMessage): PersonalSlot[] {
  let slots = slotsBySchema.get(schema.typeName);
  if (slots) return slots;
  slots = [];
  const sealed = schema.fields.find((f) => f.name === 'sealed');
  if (sealed?.fieldKind === 'message' && sealed.message.typeName === events.SealedPersonalDataSchema.typeName) {
    for (const personal of events.PersonalDataSchema.fields) {
      const field = schema.fields.find((f) => f.name === personal.name);
      if (field && sameKind(field, personal)) slots.push({ field, personal });
    }
  }
  slotsBySchema.set(schema.typeName, slots);
  return slots;
}

function sameKind(a: DescField, b: DescField): boolean {
  if (a.fieldKind !== b.fieldKind) return false;
  if (a.fieldKind === 'message' && b.fieldKind === 'message') return a.message.typeName === b.message.typeName;
  if (a.fieldKind === 'scalar' && b.fieldKind === 'scalar') return a.scalar === b.scalar;
  return false;
}

type Fields = Record<string, unknown>;

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** Whether the event holds personal fields in clear, i.e. whether it needs a key to go out. */
export function hasOpenPersonalData(schema: DescMessage, event: Message): boolean {
  const fields = event as unknown as Fields;
  return personalSlots(schema).some((s) => isSet(fields[s.field.localName]));
}

/** The sealed part of an event, if it has one. */
export function sealedPart(schema: DescMessage, event: Message): events.SealedPersonalData | undefined {
  if (personalSlots(schema).length === 0) return undefined;
  const sealed = (event as unknown as { sealed?: events.SealedPersonalData }).sealed;
  return sealed && sealed.ciphertext.byteLength > 0 ? sealed : undefined;
}

function additionalData(schema: DescMessage, leadId: string): Buffer {
  return Buffer.from(`${schema.typeName}|${leadId}`, 'utf8');
}

function leadIdOf(event: Message): string {
  const leadId = (event as unknown as { leadId?: unknown }).leadId;
  if (typeof leadId !== 'string' || !leadId) throw new Error('an event with personal data must name its lead');
  return leadId;
}

/**
 * Moves the event's personal fields into `sealed`, encrypted with the contact's key (in place).
 * Returns false when it had none in clear (nothing to seal).
 */
export function sealEvent(schema: DescMessage, event: Message, key: ContactKey): boolean {
  const slots = personalSlots(schema);
  const fields = event as unknown as Fields;
  const present = slots.filter((s) => isSet(fields[s.field.localName]));
  if (present.length === 0) return false;
  const personal = create(events.PersonalDataSchema) as unknown as Fields;
  for (const { field, personal: p } of present) {
    personal[p.localName] = fields[field.localName];
    fields[field.localName] = field.fieldKind === 'message' ? undefined : '';
  }
  const plain = toBinary(events.PersonalDataSchema, personal as unknown as events.PersonalData);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(additionalData(schema, leadIdOf(event)));
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  fields.sealed = create(events.SealedPersonalDataSchema, { keyId: key.keyId, nonce, ciphertext });
  return true;
}

/**
 * Puts the sealed personal fields back in place (in place) and clears `sealed`. Throws
 * SealBrokenError when the key does not open it.
 */
export function openEvent(schema: DescMessage, event: Message, key: ContactKey): void {
  const sealed = sealedPart(schema, event);
  if (!sealed) return;
  if (sealed.keyId !== key.keyId) throw new SealBrokenError(`sealed with key ${sealed.keyId}, not ${key.keyId}`);
  if (sealed.nonce.byteLength !== NONCE_BYTES || sealed.ciphertext.byteLength < TAG_BYTES) throw new SealBrokenError('sealed personal data is malformed');
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, sealed.nonce);
    decipher.setAAD(additionalData(schema, leadIdOf(event)));
    decipher.setAuthTag(sealed.ciphertext.subarray(sealed.ciphertext.byteLength - TAG_BYTES));
    plain = Buffer.concat([decipher.update(sealed.ciphertext.subarray(0, sealed.ciphertext.byteLength - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new SealBrokenError('sealed personal data does not open with its contact key');
  }
  const personal = fromBinary(events.PersonalDataSchema, plain) as unknown as Fields;
  const fields = event as unknown as Fields;
  for (const { field, personal: p } of personalSlots(schema)) {
    if (isSet(personal[p.localName])) fields[field.localName] = personal[p.localName];
  }
  fields.sealed = undefined;
}
