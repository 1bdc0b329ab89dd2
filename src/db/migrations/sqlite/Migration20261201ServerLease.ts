import { Migration } from '@mikro-orm/migrations';

/** The lease of the one server that serves a database file (see ServerLease). */
export class Migration20261201ServerLease extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table `server_lease` (`name` text not null, `holder` text not null, `pid` integer not null, `host` text not null, `started_at` datetime not null, `heartbeat_at` datetime not null, primary key (`name`))',
    );
  }
}
