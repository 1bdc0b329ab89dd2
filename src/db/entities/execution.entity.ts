import { EntitySchema, type Opt } from '@mikro-orm/core';
import type { ExecutionStatus } from '../../domain/transitions.js';
import { BaseRecord } from './base.entity.js';

/** The single use of a decision token; `tokenJti` is unique, so a token is consumed once. */
export class Execution extends BaseRecord {
  status: ExecutionStatus & Opt = 'STARTED';
  result: unknown = null;
  completedAt: Date | null = null;

  constructor(
    public tenant: string,
    public approvalId: string,
    public tokenJti: string,
    public executor: string,
  ) {
    super();
  }
}

export const ExecutionSchema = new EntitySchema<Execution, BaseRecord>({
  class: Execution,
  tableName: 'execution',
  indexes: [{ properties: ['tenant', 'approvalId'] }],
  properties: {
    tenant: { type: 'string', length: 128 },
    approvalId: { type: 'string', length: 36 },
    tokenJti: { type: 'string', length: 64, unique: true },
    executor: { type: 'string', length: 256 },
    status: { type: 'string', length: 16 },
    result: { type: 'json', nullable: true },
    completedAt: { type: 'datetime', nullable: true },
  },
});
