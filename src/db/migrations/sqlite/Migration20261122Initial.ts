import { Migration } from '@mikro-orm/migrations';

/** The initial schema: approvals, votes, executions, the audit chain, signing keys, tenant settings. */
export class Migration20261122Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql("create table `approval` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `tenant` text not null, `action` text not null, `resource` text null, `context` json not null, `context_hash` text not null, `agent` text null, `session_id` text null, `requester_subject` text not null, `confidence` double null, `estimated_duration_minutes` double null, `priority` text null, `source` text null, `idempotency_key` text null, `status` text not null, `risk_score` integer not null, `risk_level` text not null, `reasons` json not null, `required_approvals` integer not null, `approver_roles` json not null, `escalated` integer not null, `expires_at` datetime not null, `token_ttl_seconds` integer not null, `policy_revision` text not null, `decided_at` datetime null, `decision_token` text null, `token_jti` text null, `token_expires_at` datetime null, `version` integer not null default 1, primary key (`id`))");
    this.addSql("create unique index `approval_token_jti_unique` on `approval` (`token_jti`)");
    this.addSql("create index `approval_tenant_status_created_at_index` on `approval` (`tenant`, `status`, `created_at`)");
    this.addSql("create index `approval_tenant_created_at_index` on `approval` (`tenant`, `created_at`)");
    this.addSql("create index `approval_status_expires_at_index` on `approval` (`status`, `expires_at`)");
    this.addSql("create unique index `approval_tenant_requester_subject_idempotency_key_unique` on `approval` (`tenant`, `requester_subject`, `idempotency_key`)");
    this.addSql("create table `audit_event` (`id` text not null, `tenant` text not null, `seq` integer not null, `type` text not null, `approval_id` text null, `actor` text not null, `previous_status` text null, `new_status` text null, `details` json not null, `occurred_at` datetime not null, `previous_hash` text not null, `hash` text not null, primary key (`id`))");
    this.addSql("create index `audit_event_tenant_approval_id_seq_index` on `audit_event` (`tenant`, `approval_id`, `seq`)");
    this.addSql("create index `audit_event_tenant_type_seq_index` on `audit_event` (`tenant`, `type`, `seq`)");
    this.addSql("create index `audit_event_tenant_occurred_at_index` on `audit_event` (`tenant`, `occurred_at`)");
    this.addSql("create unique index `audit_event_tenant_seq_unique` on `audit_event` (`tenant`, `seq`)");
    this.addSql("create table `execution` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `tenant` text not null, `approval_id` text not null, `token_jti` text not null, `executor` text not null, `status` text not null default 'STARTED', `result` json null, `completed_at` datetime null, primary key (`id`))");
    this.addSql("create unique index `execution_token_jti_unique` on `execution` (`token_jti`)");
    this.addSql("create index `execution_tenant_approval_id_index` on `execution` (`tenant`, `approval_id`)");
    this.addSql("create table `signing_key` (`kid` text not null, `private_jwk` json not null, `public_jwk` json not null, `created_at` datetime not null, `retired_at` datetime null, `publish_until` datetime null, primary key (`kid`))");
    this.addSql("create table `tenant_settings` (`tenant` text not null, `threshold` double null, `allowlist` json not null, `denylist` json not null, `request_ttl_seconds` integer null, `token_ttl_seconds` integer null, `updated_at` datetime not null, `updated_by` text null, `version` integer not null default 1, primary key (`tenant`))");
    this.addSql("create table `vote` (`id` text not null, `created_at` datetime not null, `updated_at` datetime not null, `approval_id` text not null, `approver` text not null, `decision` text not null, `comment` text null, constraint `vote_approval_id_foreign` foreign key(`approval_id`) references `approval`(`id`) on delete cascade on update cascade, primary key (`id`))");
    this.addSql("create index `vote_approval_id_index` on `vote` (`approval_id`)");
    this.addSql("create unique index `vote_approval_id_approver_unique` on `vote` (`approval_id`, `approver`)");
  }
}
