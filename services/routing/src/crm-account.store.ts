import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, defineModel, isDuplicateKey } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';
import type { CrmAccount } from './domain/index.js';

type CrmAccountDoc = Omit<CrmAccount, 'domains'> & { _id: string; domains: string[]; eventId: string; updatedAt: Date };

const schema = new Schema<CrmAccountDoc>(
  {
    _id: String,
    crm: { type: String, required: true },
    accountId: { type: String, required: true },
    name: { type: String, default: '' },
    domains: { type: [String], default: [] },
    ownerId: { type: String, default: '' },
    crmOwnerId: { type: String, default: '' },
    crmModifiedAt: { type: Date, required: true },
    eventId: { type: String, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

/** Routing's copy of the CRM's accounts (leadmesh.crm.account_changed), one document per CRM account. */
@Injectable()
export class CrmAccountStore {
  private readonly accounts: Model<CrmAccountDoc>;

  constructor(@Inject(MongoStore) store: MongoStore) {
    this.accounts = defineModel(store, 'CrmAccount', schema, 'crm_accounts');
  }

  /**
   * Keeps the account as the event says unless the copy already holds a later state: one
   * single-document write, keyed by the CRM account, so a redelivered or late event changes nothing.
   * Returns false when the copy was newer.
   */
  async apply(account: CrmAccount, eventId: string): Promise<boolean> {
    const { domains, ...fields } = account;
    try {
      await this.accounts.updateOne(
        { _id: `${account.crm}:${account.accountId}`, crmModifiedAt: { $lte: account.crmModifiedAt } },
        { $set: { ...fields, domains: [...domains], eventId, updatedAt: new Date() } },
        { upsert: true },
      );
      return true;
    } catch (err) {
      // The filter missed an existing document (its stamp is later), so the upsert tried a second one.
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async all(): Promise<CrmAccount[]> {
    const docs = await this.accounts.find({}, { _id: 0, eventId: 0, updatedAt: 0 }).lean<CrmAccountDoc[]>();
    return docs.map((d) => ({ crm: d.crm, accountId: d.accountId, name: d.name ?? '', domains: d.domains ?? [], ownerId: d.ownerId ?? '', crmOwnerId: d.crmOwnerId ?? '', crmModifiedAt: new Date(d.crmModifiedAt) }));
  }
}
