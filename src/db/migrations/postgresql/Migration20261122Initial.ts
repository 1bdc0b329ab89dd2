import { Migration } from '@mikro-orm/migrations';

/** The initial schema on PostgreSQL: approvals, votes, executions, the audit chain, signing keys, tenant settings. */
export class Migration20261122Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql('create table "approval" ("id" varchar(36) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "tenant" varchar(128) not null, "action" varchar(256) not null, "resource" varchar(1024) null, "context" jsonb not null, "context_hash" varchar(64) not null, "agent" varchar(256) null, "session_id" varchar(256) null, "requester_subject" varchar(256) not null, "confidence" double precision null, "estimated_duration_minutes" double precision null, "priority" varchar(32) null, "source" varchar(64) null, "idempotency_key" varchar(256) null, "status" varchar(16) not null, "risk_score" int not null, "risk_level" varchar(16) not null, "reasons" jsonb not null, "required_approvals" int not null, "approver_roles" jsonb not null, "escalated" boolean not null, "expires_at" timestamptz not null, "token_ttl_seconds" int not null, "policy_revision" varchar(64) not null, "decided_at" timestamptz null, "decision_token" text null, "token_jti" varchar(64) null, "token_expires_at" timestamptz null, "version" int not null default 1, constraint "approval_pkey" primary key ("id"))');
    this.addSql('alter table "approval" add constraint "approval_token_jti_unique" unique ("token_jti")');
    this.addSql('create index "approval_tenant_status_created_at_index" on "approval" ("tenant", "status", "created_at")');
    this.addSql('create index "approval_tenant_created_at_index" on "approval" ("tenant", "created_at")');
    this.addSql('create index "approval_status_expires_at_index" on "approval" ("status", "expires_at")');
    this.addSql('alter table "approval" add constraint "approval_tenant_requester_subject_idempotency_key_unique" unique ("tenant", "requester_subject", "idempotency_key")');
    this.addSql('create table "audit_event" ("id" varchar(36) not null, "tenant" varchar(128) not null, "seq" int not null, "type" varchar(32) not null, "approval_id" varchar(36) null, "actor" varchar(256) not null, "previous_status" varchar(16) null, "new_status" varchar(16) null, "details" jsonb not null, "occurred_at" timestamptz not null, "previous_hash" varchar(64) not null, "hash" varchar(64) not null, constraint "audit_event_pkey" primary key ("id"))');
    this.addSql('create index "audit_event_tenant_approval_id_seq_index" on "audit_event" ("tenant", "approval_id", "seq")');
    this.addSql('create index "audit_event_tenant_type_seq_index" on "audit_event" ("tenant", "type", "seq")');
    this.addSql('create index "audit_event_tenant_occurred_at_index" on "audit_event" ("tenant", "occurred_at")');
    this.addSql('alter table "audit_event" add constraint "audit_event_tenant_seq_unique" unique ("tenant", "seq")');
    this.addSql('create table "execution" ("id" varchar(36) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "tenant" varchar(128) not null, "approval_id" varchar(36) not null, "token_jti" varchar(64) not null, "executor" varchar(256) not null, "status" varchar(16) not null default \'STARTED\', "result" jsonb null, "completed_at" timestamptz null, constraint "execution_pkey" primary key ("id"))');
    this.addSql('alter table "execution" add constraint "execution_token_jti_unique" unique ("token_jti")');
    this.addSql('create index "execution_tenant_approval_id_index" on "execution" ("tenant", "approval_id")');
    this.addSql('create table "signing_key" ("kid" varchar(64) not null, "private_jwk" jsonb not null, "public_jwk" jsonb not null, "created_at" timestamptz not null, "retired_at" timestamptz null, "publish_until" timestamptz null, constraint "signing_key_pkey" primary key ("kid"))');
    this.addSql('create table "tenant_settings" ("tenant" varchar(128) not null, "threshold" double precision null, "allowlist" jsonb not null, "denylist" jsonb not null, "request_ttl_seconds" int null, "token_ttl_seconds" int null, "updated_at" timestamptz not null, "updated_by" varchar(256) null, "version" int not null default 1, constraint "tenant_settings_pkey" primary key ("tenant"))');
    this.addSql('create table "vote" ("id" varchar(36) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "approval_id" varchar(36) not null, "approver" varchar(256) not null, "decision" varchar(8) not null, "comment" text null, constraint "vote_pkey" primary key ("id"))');
    this.addSql('alter table "vote" add constraint "vote_approval_id_approver_unique" unique ("approval_id", "approver")');
    this.addSql('alter table "vote" add constraint "vote_approval_id_foreign" foreign key ("approval_id") references "approval" ("id") on update cascade on delete cascade');
  }
}
