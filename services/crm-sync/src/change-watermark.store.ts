import { Inject, Injectable } from '@nestjs/common';
import { MongoStore, defineModel } from '@leadmesh/platform';
import { Schema, type Model } from 'mongoose';

/** How far crm-sync has read the CRM's modified records, per CRM: a restart resumes from here. */
interface WatermarkDoc {
  _id: string;
  at: Date;
}

const schema = new Schema<WatermarkDoc>({ _id: String, at: { type: Date, required: true } }, { versionKey: false });

@Injectable()
export class ChangeWatermarkStore {
  private readonly watermarks: Model<WatermarkDoc>;

  constructor(@Inject(MongoStore) store: MongoStore) {
    this.watermarks = defineModel(store, 'CrmChangeWatermark', schema, 'crm_change_watermarks');
  }

  async get(crm: string): Promise<Date | undefined> {
    return (await this.watermarks.findById(crm).lean<WatermarkDoc>())?.at;
  }

  /** Only forward: a replica that read an older page does not move another's mark back. */
  async advance(crm: string, at: Date): Promise<void> {
    await this.watermarks.updateOne({ _id: crm }, { $max: { at } }, { upsert: true });
  }
}
