import { Migration } from '@mikro-orm/migrations';

/** Subjects whose caller tokens an admin revoked (see CallerRevocation). */
export class Migration20261203CallerRevocations extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table `caller_revocation` (`tenant` text not null, `subject` text not null, `revoked_before` datetime not null, `revoked_by` text not null, primary key (`tenant`, `subject`))',
    );
  }
}
