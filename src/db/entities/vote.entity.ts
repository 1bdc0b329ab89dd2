import { EntitySchema, type Ref } from '@mikro-orm/core';
import type { Vote as VoteValue } from '../../domain/approval-state.js';
import type { Approval } from './approval.entity.js';
import { BaseRecord } from './base.entity.js';

/** One approver's decision on one approval; an approver counts once. */
export class Vote extends BaseRecord {
  constructor(
    public approval: Ref<Approval>,
    public approver: string,
    public decision: VoteValue,
    public comment: string | null,
  ) {
    super();
  }
}

export const VoteSchema = new EntitySchema<Vote, BaseRecord>({
  class: Vote,
  tableName: 'vote',
  uniques: [{ properties: ['approval', 'approver'] }],
  properties: {
    approval: { kind: 'm:1', entity: () => 'Approval', ref: true, deleteRule: 'cascade' },
    approver: { type: 'string', length: 256 },
    decision: { type: 'string', length: 8 },
    comment: { type: 'text', nullable: true },
  },
});
