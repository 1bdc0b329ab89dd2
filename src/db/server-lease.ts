import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { MikroORM } from '@mikro-orm/core';
import { ServerLeaseSchema, type ServerLease } from './entities/server-lease.entity.js';
import { lockWriters } from './orm.js';
import { inTransaction } from './transaction.js';

const LEASE_NAME = 'server';

/** Another live server holds the database file. */
export class DatabaseInUseError extends Error {
  readonly code = 'DATABASE_IN_USE';
  constructor(
    readonly databasePath: string,
    readonly holder: { pid: number; host: string; startedAt: Date },
  ) {
    super(
      `the database ${databasePath} is in use by another Countersign server (pid ${holder.pid} on ${holder.host}, ` +
        `since ${holder.startedAt.toISOString()}); stop that server first, or give this one its own COUNTERSIGN_DB`,
    );
    this.name = 'DatabaseInUseError';
  }
}

export interface LeaseOptions {
  /** How often the holder renews the lease. */
  heartbeatMs?: number;
  /** A lease not renewed for this long is stale, whoever held it. */
  staleMs?: number;
  now?: () => Date;
}

/**
 * One server per database file. A second server on the same SQLite file would write correctly
 * (the audit chain head is read in the write transaction), but each keeps state in memory that
 * the other's writes make stale: the tenant settings the policy evaluates with, the subscribers
 * it tells about changes. So the server takes this lease at start and a second one is refused,
 * with a message that names the file and the holder. Commands that open the file briefly
 * (`countersign keys rotate`) take no lease.
 *
 * A lease is live while it is renewed, and, on this host, while its process exists: after a
 * crash (`kill -9`) a restart on the same host takes over at once; a holder on another host (a
 * network file system) is waited out until its lease goes stale.
 */
export class ServerLeaseHolder {
  private timer: NodeJS.Timeout | undefined;
  private readonly holder = randomUUID();

  private constructor(
    private readonly orm: MikroORM,
    private readonly now: () => Date,
  ) {}

  /** Takes the lease or throws {@link DatabaseInUseError}. */
  static async acquire(orm: MikroORM, databasePath: string, options: LeaseOptions = {}): Promise<ServerLeaseHolder> {
    const now = options.now ?? (() => new Date());
    const staleMs = options.staleMs ?? 30_000;
    const lease = new ServerLeaseHolder(orm, now);
    await inTransaction(orm, async (em) => {
      await lockWriters(em);
      const current = await em.findOne(ServerLeaseSchema, { name: LEASE_NAME }, { disableIdentityMap: true });
      const at = now();
      if (current && isLive(current, at, staleMs)) throw new DatabaseInUseError(databasePath, current);
      const holder = { holder: lease.holder, pid: process.pid, host: hostname(), startedAt: at, heartbeatAt: at };
      // A stale lease (its holder crashed or stalled) is taken over. Written past the unit of work,
      // so that no flush enters an async context (see transaction.ts).
      if (current) await em.nativeUpdate(ServerLeaseSchema, { name: LEASE_NAME }, holder);
      else await em.insert(ServerLeaseSchema, { name: LEASE_NAME, ...holder });
    });
    lease.timer = setInterval(() => void lease.renew(), options.heartbeatMs ?? 5_000);
    lease.timer.unref();
    return lease;
  }

  /** Renews the lease; a lease taken over meanwhile (this process stalled past staleness) is reported. */
  async renew(): Promise<void> {
    try {
      const renewed = await this.orm.em
        .fork()
        .nativeUpdate(ServerLeaseSchema, { name: LEASE_NAME, holder: this.holder }, { heartbeatAt: this.now() });
      if (renewed === 0) console.error('countersign: this server lost its lease on the database to another server');
    } catch (error) {
      console.error(`countersign: renewing the server lease failed: ${String(error)}`);
    }
  }

  /** Gives the lease up, so that a next server starts at once. */
  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.orm.em.fork().nativeDelete(ServerLeaseSchema, { name: LEASE_NAME, holder: this.holder });
  }
}

function isLive(lease: ServerLease, now: Date, staleMs: number): boolean {
  if (now.getTime() - lease.heartbeatAt.getTime() > staleMs) return false;
  return lease.host !== hostname() || processExists(lease.pid);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
