import { Migration } from '@mikro-orm/migrations';

/**
 * The due-deliveries index: per channel, by due time, over owed deliveries only (delivered and
 * dead ones, which pile up, are not in it), so that a claim reads a batch whatever the backlog.
 */
export class Migration20261202DueDeliveries extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "notification_delivery_due_index" on "notification_delivery" ("channel_id", "next_attempt_at") where status in ('PENDING', 'RETRYING')`,
    );
  }
}
