import { EntitySchema } from '@mikro-orm/core';

/**
 * The claim of the one server that serves a database file: several servers on one SQLite file
 * would each keep in-memory state (tenant settings handed to the policy, live subscriptions)
 * that the others' writes make stale, so a second one refuses to start while this is live.
 */
export class ServerLease {
  constructor(
    /** Always `'server'`: one row. */
    public name: string,
    /** Random id of the holding server instance. */
    public holder: string,
    public pid: number,
    public host: string,
    public startedAt: Date,
    /** Renewed while the holder runs; a lease not renewed for a while is stale. */
    public heartbeatAt: Date,
  ) {}
}

export const ServerLeaseSchema = new EntitySchema<ServerLease>({
  class: ServerLease,
  tableName: 'server_lease',
  properties: {
    name: { type: 'string', primary: true, length: 32 },
    holder: { type: 'string', length: 36 },
    pid: { type: 'integer' },
    host: { type: 'string', length: 256 },
    startedAt: { type: 'datetime' },
    heartbeatAt: { type: 'datetime' },
  },
});
