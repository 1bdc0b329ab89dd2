import { Migration } from '@mikro-orm/migrations';

/** The lease of the one server that serves an SQLite file (see ServerLease); unused on PostgreSQL, where instances share the database. */
export class Migration20261201ServerLease extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "server_lease" ("name" varchar(32) not null, "holder" varchar(36) not null, "pid" int not null, "host" varchar(256) not null, "started_at" timestamptz not null, "heartbeat_at" timestamptz not null, constraint "server_lease_pkey" primary key ("name"))',
    );
  }
}
