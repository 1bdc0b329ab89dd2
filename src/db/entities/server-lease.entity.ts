import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * The claim of the one server that serves a database file: several servers on one SQLite file
 * would each keep in-memory state (tenant settings handed to the policy, live subscriptions)
 * that the others' writes make stale, so a second one refuses to start while this is live.
 */
export const ServerLeaseSchema = defineEntity({
  name: 'ServerLease',
  tableName: 'server_lease',
  properties: (p) => ({
    /** Always `'server'`: one row. */
    name: p.string().primary().length(32),
    /** Random id of the holding server instance. */
    holder: p.string().length(36),
    pid: p.integer(),
    host: p.string().length(256),
    startedAt: p.datetime(),
    /** Renewed while the holder runs; a lease not renewed for a while is stale. */
    heartbeatAt: p.datetime(),
  }),
});

/** The lease row; its type is inferred from the schema, which states each field once. */
export type ServerLease = InferEntity<typeof ServerLeaseSchema>;
