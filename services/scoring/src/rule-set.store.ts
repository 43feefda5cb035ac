import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, defineModel, isDuplicateKey } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';

/** A published rule-set version. Immutable once stored: a change is a new version. */
export interface RuleSetDoc {
  _id: string;
  description: string;
  /** The YAML exactly as published (or as the file in the repo read). */
  document: string;
  /** Hash of the canonical rule set: equal fingerprints score every lead the same. */
  fingerprint: string;
  publishedAt: Date;
  activatedAt?: Date;
}

/** Which version scores leads: one document, so every replica agrees. */
export interface ScoringSettingsDoc {
  _id: string;
  activeVersion: string;
  activatedAt: Date;
}

const SETTINGS_ID = 'scoring';

const ruleSetSchema = new Schema<RuleSetDoc>(
  { _id: String, description: String, document: String, fingerprint: String, publishedAt: Date, activatedAt: Date },
  { versionKey: false },
);

const settingsSchema = new Schema<ScoringSettingsDoc>({ _id: String, activeVersion: String, activatedAt: Date }, { versionKey: false });

@Injectable()
export class RuleSetStore {
  private readonly ruleSets: Model<RuleSetDoc>;
  private readonly settings: Model<ScoringSettingsDoc>;

  constructor(@Inject(MongoStore) readonly store: MongoStore) {
    this.ruleSets = defineModel(store, 'RuleSet', ruleSetSchema, 'rule_sets');
    this.settings = defineModel(store, 'ScoringSettings', settingsSchema, 'scoring_settings');
  }

  /**
   * Stores a version unless it exists. Returns what is stored under that version and whether this
   * call created it; the caller decides whether an existing one is the same rule set.
   */
  async insert(doc: Omit<RuleSetDoc, 'activatedAt'>): Promise<{ stored: RuleSetDoc; created: boolean }> {
    try {
      await this.ruleSets.create(doc);
      return { stored: doc, created: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const stored = await this.find(doc._id);
      if (!stored) throw err;
      return { stored, created: false };
    }
  }

  find(version: string): Promise<RuleSetDoc | null> {
    return this.ruleSets.findById(version).lean<RuleSetDoc>().exec();
  }

  list(): Promise<RuleSetDoc[]> {
    return this.ruleSets.find().lean<RuleSetDoc[]>().exec();
  }

  activeSettings(): Promise<ScoringSettingsDoc | null> {
    return this.settings.findById(SETTINGS_ID).lean<ScoringSettingsDoc>().exec();
  }

  /** Sets the first active version; a store that already has one keeps it (another replica or an earlier run chose). */
  async initActive(version: string, at: Date): Promise<void> {
    try {
      await this.settings.create({ _id: SETTINGS_ID, activeVersion: version, activatedAt: at });
      await this.ruleSets.updateOne({ _id: version }, { $set: { activatedAt: at } });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }

  async activate(version: string, at: Date): Promise<void> {
    await this.settings.updateOne({ _id: SETTINGS_ID }, { $set: { activeVersion: version, activatedAt: at } }, { upsert: true });
    await this.ruleSets.updateOne({ _id: version }, { $set: { activatedAt: at } });
  }
}
