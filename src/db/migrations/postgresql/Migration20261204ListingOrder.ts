import { Migration } from '@mikro-orm/migrations';

/**
 * The listing indexes end in the approval's id, the tie-breaker of a listing's order (newest
 * first, then by id): a page is read from the index in order and stops at its limit, where the
 * old indexes left every row of a millisecond to be sorted, and the keyset position
 * (created_at, id) is one range of the index.
 */
export class Migration20261204ListingOrder extends Migration {
  override async up(): Promise<void> {
    this.addSql('drop index "approval_tenant_status_created_at_index"');
    this.addSql('drop index "approval_tenant_created_at_index"');
    this.addSql('create index "approval_tenant_status_created_at_id_index" on "approval" ("tenant", "status", "created_at", "id")');
    this.addSql('create index "approval_tenant_created_at_id_index" on "approval" ("tenant", "created_at", "id")');
  }
}
