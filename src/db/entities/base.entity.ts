import { newId } from '../../domain/ids.js';
import { EntitySchema, type Opt } from '@mikro-orm/core';

/** Shared identity and timestamps of every stored record. */
export abstract class BaseRecord {
  id: string = newId();
  createdAt: Date & Opt = new Date();
  updatedAt: Date & Opt = new Date();
}

export const BaseRecordSchema = new EntitySchema<BaseRecord>({
  class: BaseRecord,
  abstract: true,
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    createdAt: { type: 'datetime', onCreate: () => new Date() },
    updatedAt: { type: 'datetime', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});
