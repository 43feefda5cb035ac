import { fromBinary, toBinary, type DescMessage, type Message } from '@bufbuild/protobuf';
import { events } from '@leadmesh/contracts';
import { JetStreamApiCodes, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Metrics } from '../metrics.js';
import { PoisonEventError } from '../failures.js';
import type { NatsClient } from './connection.js';
import type { OutgoingEvent } from './publisher.js';
import {
  CONTACT_KEY_BYTES,
  SealBrokenError,
  contactKeyId,
  hasOpenPersonalData,
  newContactKey,
  openEvent,
  personalSlots,
  sealEvent,
  sealedPart,
  type ContactKey,
} from './sealing.js';

/** What the bucket says about a contact's key. */
export type KeyLookup = { state: 'live'; key: ContactKey } | { state: 'shredded' } | { state: 'missing' };

export interface ContactKeysOptions {
  /** Keys kept in memory per replica; the least recently used go first. */
  maxCached: number;
  /**
   * How long a cached key is used before the bucket is asked again. Every replica drops an erased
   * lead's key within seconds anyway (Erasures); this bounds a replica that missed it.
   */
  ttlMs: number;
}

const defaults: ContactKeysOptions = {
  maxCached: Number(process.env.CONTACT_KEYS_CACHED ?? 20_000),
  ttlMs: Number(process.env.CONTACT_KEYS_TTL_MS ?? 10 * 60_000),
};

/**
 * The contacts' data keys (crypto-shredding), in the contact-keys bucket of the event backbone:
 * intake issues one random key per contact and shreds it on erasure; every service reads them to
 * seal and open the personal fields of events. Only intake's NATS user may write the bucket.
 *
 * A replica keeps the keys it used in a bounded cache, so a lead's events cost one bucket read per
 * replica and service, not one per event; concurrent lookups of one key share that read.
 */
export class ContactKeys {
  private kv?: KV;
  private kvOf?: JetStreamClient;
  /** Lead id -> key and when it was read; Map order is recency (re-inserted on use). */
  private readonly cache = new Map<string, { key: ContactKey; readAt: number }>();
  /** Lead ids known to be erased here: no bucket read for their events, no key from the cache. */
  private readonly shredded = new Set<string>();
  private readonly reading = new Map<string, Promise<KeyLookup>>();

  constructor(
    private readonly nats: NatsClient,
    private readonly metrics?: Metrics,
    private readonly options: ContactKeysOptions = defaults,
  ) {}

  /** The contact's key as the bucket holds it (cached). */
  async lookup(leadId: string): Promise<KeyLookup> {
    const cached = this.cached(leadId);
    if (cached) return cached;
    let pending = this.reading.get(leadId);
    if (!pending) {
      pending = this.read(leadId).finally(() => this.reading.delete(leadId));
      this.reading.set(leadId, pending);
    }
    return pending;
  }

  /**
   * Intake: the contact's key, made and stored if it has none. Never makes one for a shredded
   * contact: the purge marker stays in the bucket, and a create expects no message at all.
   */
  async issue(leadId: string): Promise<KeyLookup> {
    const cached = this.cached(leadId);
    if (cached) return cached;
    const key = newContactKey(contactKeyId(leadId));
    try {
      // Most contacts are new: the create goes first (one call), a known one costs a read after.
      await (await this.bucket()).put(key.keyId, key.key, { previousSeq: 0 });
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || (err.code !== JetStreamApiCodes.StreamWrongLastSequence && err.code !== JetStreamApiCodes.StreamWrongLastSequenceUnknown)) throw err;
      return this.lookup(leadId);
    }
    this.metrics?.contactKeyLookups.inc({ source: 'issued' });
    this.remember(leadId, key);
    return { state: 'live', key };
  }

  /** Intake, on erasure: the key is purged from the bucket (only a marker stays), so no copy opens again. */
  async shred(leadId: string): Promise<void> {
    await (await this.bucket()).purge(contactKeyId(leadId));
    this.forget(leadId);
  }

  /** This replica learned that the lead is erased: its key leaves memory and is not read again. */
  forget(leadId: string): void {
    this.cache.delete(leadId);
    this.shredded.add(leadId);
    // Bounded like the cache; a forgotten one costs a bucket read, which says "shredded" again.
    for (const id of this.shredded) {
      if (this.shredded.size <= this.options.maxCached) break;
      this.shredded.delete(id);
    }
  }

  private cached(leadId: string): KeyLookup | undefined {
    if (this.shredded.has(leadId)) {
      this.metrics?.contactKeyLookups.inc({ source: 'shredded' });
      return { state: 'shredded' };
    }
    const entry = this.cache.get(leadId);
    if (!entry) return undefined;
    this.cache.delete(leadId);
    if (Date.now() - entry.readAt > this.options.ttlMs) return undefined;
    this.cache.set(leadId, entry);
    this.metrics?.contactKeyLookups.inc({ source: 'cache' });
    return { state: 'live', key: entry.key };
  }

  private async read(leadId: string): Promise<KeyLookup> {
    const entry = await (await this.bucket()).get(contactKeyId(leadId));
    if (!entry) {
      this.metrics?.contactKeyLookups.inc({ source: 'missing' });
      return { state: 'missing' };
    }
    if (entry.operation !== 'PUT' || entry.value.byteLength !== CONTACT_KEY_BYTES) {
      this.metrics?.contactKeyLookups.inc({ source: 'shredded' });
      this.forget(leadId);
      return { state: 'shredded' };
    }
    this.metrics?.contactKeyLookups.inc({ source: 'bucket' });
    const key = { keyId: contactKeyId(leadId), key: new Uint8Array(entry.value) };
    this.remember(leadId, key);
    return { state: 'live', key };
  }

  private remember(leadId: string, key: ContactKey): void {
    this.cache.delete(leadId);
    this.cache.set(leadId, { key, readAt: Date.now() });
    for (const id of this.cache.keys()) {
      if (this.cache.size <= this.options.maxCached) break;
      this.cache.delete(id);
    }
  }

  /** Bound to the current JetStream client: a reconnect makes a new one. */
  private async bucket(): Promise<KV> {
    const js = this.nats.js;
    if (!this.kv || this.kvOf !== js) {
      // Binds without an API call; reads go to the stream leader (the bucket has no direct gets).
      this.kv = await new Kvm(js).open(this.nats.topology.contactKeysBucket, { allow_direct: false });
      this.kvOf = js;
    }
    return this.kv;
  }
}

/** The event schemas by type name: what an outgoing event's payload is decoded with to be sealed. */
const eventSchemas = new Map<string, DescMessage>(events.file_leadmesh_events_v1_events.messages.map((m) => [m.typeName, m]));

/** An incoming event whose contact is erased: its personal data is gone, and the event with it. */
export type Opened = 'open' | 'erased';

/**
 * The one place events are sealed and opened. The publisher seals the personal fields of every
 * event it sends (EventPublisher), the consumers and the replay of parked events open them
 * (EventConsumers, ParkedEvents) before a handler sees the event; handlers see plain events.
 */
export class EventSealing {
  constructor(
    readonly keys: ContactKeys,
    /** Intake: makes a contact's key when it publishes the contact's first event. */
    private readonly issuesKeys: boolean,
  ) {}

  /**
   * The payload to publish: the personal fields sealed with the contact's key. Null when the
   * contact is erased (its key is shredded): the event must not go out, in clear or at all. An event
   * with no personal fields goes out as it is, and so does one whose contact never had a key (it
   * came in clear, from before sealing); only intake issues keys.
   */
  async seal(event: OutgoingEvent): Promise<Uint8Array | null> {
    const schema = eventSchemas.get(event.type);
    if (!schema || personalSlots(schema).length === 0) return event.payload;
    const message = fromBinary(schema, event.payload);
    if (!hasOpenPersonalData(schema, message)) return event.payload;
    const leadId = (message as unknown as { leadId: string }).leadId;
    const found = this.issuesKeys ? await this.keys.issue(leadId) : await this.keys.lookup(leadId);
    if (found.state === 'shredded') return null;
    if (found.state === 'missing') return event.payload;
    sealEvent(schema, message, found.key);
    return toBinary(schema, message);
  }

  /**
   * Puts an incoming event's personal fields back in place. 'erased' when its contact's key is
   * shredded: the event is then dropped, never parked and never applied. A sealed event whose key
   * does not open it is poison; one whose key was never issued fails on its merits (retried, then
   * parked, where a replay finds it once the key is there).
   */
  async open(schema: DescMessage, event: Message): Promise<Opened> {
    const sealed = sealedPart(schema, event);
    if (!sealed) return 'open';
    const leadId = (event as unknown as { leadId: string }).leadId;
    if (sealed.keyId !== contactKeyId(leadId)) throw new PoisonEventError('sealed personal data names the key of another contact');
    const found = await this.keys.lookup(leadId);
    if (found.state === 'shredded') return 'erased';
    if (found.state === 'missing') throw new Error(`no contact key for lead ${leadId} in the contact-keys bucket`);
    try {
      openEvent(schema, event, found.key);
    } catch (err) {
      if (err instanceof SealBrokenError) throw new PoisonEventError(err.message);
      throw err;
    }
    return 'open';
  }
}
