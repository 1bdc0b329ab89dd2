import { Migration } from '@mikro-orm/migrations';

/** Subjects whose caller tokens an admin revoked (see CallerRevocation). */
export class Migration20261203CallerRevocations extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "caller_revocation" ("tenant" varchar(128) not null, "subject" varchar(256) not null, "revoked_before" timestamptz not null, "revoked_by" varchar(256) not null, constraint "caller_revocation_pkey" primary key ("tenant", "subject"))',
    );
  }
}
