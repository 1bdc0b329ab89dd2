import { Migration } from '@mikro-orm/migrations';

/** Notification channels, the delivery outbox with its attempts, and the dispatcher's audit cursor (PostgreSQL). */
export class Migration20261201Notifications extends Migration {
  override async up(): Promise<void> {
    this.addSql('create table "notification_attempt" ("id" varchar(36) not null, "delivery_id" varchar(40) not null, "tenant" varchar(128) not null, "number" int not null, "started_at" timestamptz not null, "duration_ms" int not null, "outcome" varchar(16) not null, "status_code" int null, "result" text not null, "next_attempt_at" timestamptz null, constraint "notification_attempt_pkey" primary key ("id"))');
    this.addSql('create index "notification_attempt_delivery_id_number_index" on "notification_attempt" ("delivery_id", "number")');
    this.addSql('create table "notification_channel" ("id" varchar(36) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "tenant" varchar(128) not null, "kind" varchar(16) not null, "name" varchar(128) not null, "url" varchar(2048) null, "email_to" jsonb not null, "events" jsonb not null, "include_context" boolean not null, "expiring_before_seconds" int not null, "sealed_secret" text null, "start_seq" int not null, "enabled" boolean not null default true, "version" int not null default 1, constraint "notification_channel_pkey" primary key ("id"))');
    this.addSql('create index "notification_channel_tenant_enabled_index" on "notification_channel" ("tenant", "enabled")');
    this.addSql('create table "notification_cursor" ("tenant" varchar(128) not null, "last_seq" int not null, "updated_at" timestamptz not null, constraint "notification_cursor_pkey" primary key ("tenant"))');
    this.addSql('create table "notification_delivery" ("id" varchar(40) not null, "tenant" varchar(128) not null, "channel_id" varchar(36) not null, "event_key" varchar(96) not null, "event_type" varchar(32) not null, "approval_id" varchar(36) null, "body" text not null, "occurred_at" timestamptz not null, "created_at" timestamptz not null, "status" varchar(16) not null default \'PENDING\', "attempts" int not null default 0, "schedule_attempts" int not null default 0, "next_attempt_at" timestamptz not null, "last_attempt_at" timestamptz null, "last_status_code" int null, "last_result" text null, "delivered_at" timestamptz null, "lease_token" varchar(36) null, "lease_until" timestamptz null, constraint "notification_delivery_pkey" primary key ("id"))');
    this.addSql('create index "notification_delivery_status_next_attempt_at_index" on "notification_delivery" ("status", "next_attempt_at")');
    this.addSql('create index "notification_delivery_tenant_channel_id_created_at_index" on "notification_delivery" ("tenant", "channel_id", "created_at")');
    this.addSql('create index "notification_delivery_lease_token_index" on "notification_delivery" ("lease_token")');
    this.addSql('alter table "notification_delivery" add constraint "notification_delivery_channel_id_event_key_unique" unique ("channel_id", "event_key")');
  }
}
