import type { MikroORM } from '@mikro-orm/core';
import { ApprovalStore } from './approval-store.js';
import { AuditStore } from './audit-store.js';
import { ExecutionStore } from './execution-store.js';
import { RevocationStore } from './revocation-store.js';
import { SettingsStore } from './settings-store.js';
import { VoteStore } from './vote-store.js';

/** Every store of the database, the only way the use cases read and write it. */
export interface Stores {
  readonly approvals: ApprovalStore;
  readonly votes: VoteStore;
  readonly executions: ExecutionStore;
  readonly audit: AuditStore;
  readonly settings: SettingsStore;
  readonly revocations: RevocationStore;
}

export function createStores(orm: MikroORM): Stores {
  return {
    approvals: new ApprovalStore(orm),
    votes: new VoteStore(orm),
    executions: new ExecutionStore(),
    audit: new AuditStore(orm),
    settings: new SettingsStore(orm),
    revocations: new RevocationStore(orm),
  };
}
