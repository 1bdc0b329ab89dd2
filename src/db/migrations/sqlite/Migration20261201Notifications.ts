import { Migration } from '@mikro-orm/migrations';

/** Notification channels, the delivery outbox with its attempts, and the dispatcher's audit cursor. */
export class Migration20261201Notifications extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table `notification_channel` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `tenant` text not null, `kind` text not null, `name` text not null, `url` text null, `email_to` json not null, `events` json not null, `include_context` integer not null, `expiring_before_seconds` integer not null, `sealed_secret` text null, `start_seq` integer not null, `enabled` integer not null default true, `version` integer not null default 1, primary key (`id`))");
    this.addSql("create index `notification_channel_tenant_enabled_index` on `notification_channel` (`tenant`, `enabled`)");
    this.addSql("create table `notification_cursor` (`tenant` text not null, `last_seq` integer not null, `updated_at` datetime not null, primary key (`tenant`))");
    this.addSql("create table `notification_delivery` (`id` text not null, `tenant` text not null, `channel_id` text not null, `event_key` text not null, `event_type` text not null, `approval_id` text null, `body` text not null, `occurred_at` datetime not null, `created_at` datetime not null, `status` text not null default 'PENDING', `attempts` integer not null default 0, `schedule_attempts` integer not null default 0, `next_attempt_at` datetime not null, `last_attempt_at` datetime null, `last_status_code` integer null, `last_result` text null, `delivered_at` datetime null, `lease_token` text null, `lease_until` datetime null, primary key (`id`))");
    this.addSql("create index `notification_delivery_status_next_attempt_at_index` on `notification_delivery` (`status`, `next_attempt_at`)");
    this.addSql("create index `notification_delivery_tenant_channel_id_created_at_index` on `notification_delivery` (`tenant`, `channel_id`, `created_at`)");
    this.addSql("create index `notification_delivery_lease_token_index` on `notification_delivery` (`lease_token`)");
    this.addSql("create unique index `notification_delivery_channel_id_event_key_unique` on `notification_delivery` (`channel_id`, `event_key`)");
    this.addSql("create table `notification_attempt` (`id` text not null, `delivery_id` text not null, `tenant` text not null, `number` integer not null, `started_at` datetime not null, `duration_ms` integer not null, `outcome` text not null, `status_code` integer null, `result` text not null, `next_attempt_at` datetime null, primary key (`id`))");
    this.addSql("create index `notification_attempt_delivery_id_number_index` on `notification_attempt` (`delivery_id`, `number`)");
  }
}
