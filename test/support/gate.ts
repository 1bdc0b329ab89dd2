/**
 * GraphQL documents and small typed clients for the integration tests: every call goes over HTTP
 * to a real server, exactly as an agent, an approver or an auditor would send it.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import type { TestServer } from './server.js';
import { ERROR_TYPENAMES, type ErrorCode, type GateError, type ApprovalStatus, type ApprovalData, type RequestApprovalPayload, type ExecutePayload, type Connection, type AuditEventData, type ChainVerificationData, type TenantSettingsData, type Result } from './gate-shapes.js';
import { REQUEST_APPROVAL, DECIDE, EXECUTE, COMPLETE_EXECUTION, APPROVAL, APPROVALS, AUDIT_EVENTS, VERIFY_AUDIT_CHAIN, TENANT_SETTINGS, UPDATE_TENANT_SETTINGS } from './gate-documents.js';

export * from './gate-shapes.js';
export * from './gate-documents.js';

// ------------------------------------------------------------------ requests with known outcomes

/** Allowed outright (rule CS-310): a quick email response. */
export const QUICK_EMAIL = {
  action: 'email_response',
  resource: 'ticket/42',
  context: { to: 'customer@example.com', template: 'refund-confirmed' },
  estimatedDurationMinutes: 5,
} as const;

/** Needs one approver (CS-220, medium risk). */
export const PAYMENT_ONE_APPROVER = {
  action: 'payment',
  resource: 'invoice/INV-1',
  context: { amount: 1500, currency: 'USD' },
} as const;

/** High risk (payment over 1000 at high priority): two approvers. */
export const PAYMENT_TWO_APPROVERS = {
  action: 'payment',
  resource: 'invoice/INV-2',
  context: { amount: 5000, currency: 'USD' },
  priority: 'high',
} as const;

/** Critical risk (score 8): escalated to two admins. */
export const CRITICAL_PAYMENT = {
  action: 'payment',
  resource: 'invoice/INV-3',
  context: { amount: 25_000, currency: 'USD' },
  priority: 'critical',
  source: 'external',
} as const;

// ------------------------------------------------------------------ clients

export interface GraphQLBody<T> {
  data?: Record<string, T>;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs one operation with arbitrary headers; for callers whose Authorization is itself the test. */
export async function postGraphQL<T = unknown>(
  server: TestServer,
  headers: Record<string, string>,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLBody<T>> {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLBody<T>;
}

/** The one root field of a response; a GraphQL-level error fails the test, since every expected failure is typed. */
export function field<T>(body: GraphQLBody<T>, name: string): T {
  if (body.errors?.length) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(body.errors)}`);
  const value = body.data?.[name];
  if (value === undefined) throw new Error(`no ${name} in ${JSON.stringify(body)}`);
  return value;
}

export interface RequestApprovalInput {
  action: string;
  context: unknown;
  resource?: string | null;
  agent?: string;
  sessionId?: string;
  confidence?: number;
  estimatedDurationMinutes?: number;
  priority?: string;
  source?: string;
  idempotencyKey?: string;
  ttlSeconds?: number;
}

export interface ExecuteInput {
  token: string;
  action: string;
  context: unknown;
  resource?: string | null;
  dryRun?: boolean;
  outcome?: 'SUCCEEDED' | 'FAILED';
  result?: unknown;
}

export interface AuditFilter {
  approvalId?: string;
  type?: string;
  actor?: string;
  first?: number;
  after?: string;
}

/** One caller of the API: a subject with roles in a tenant, holding its bearer token. */
export class GateClient {
  constructor(
    readonly server: TestServer,
    readonly subject: string,
    readonly tenant: string,
    readonly bearer: string | null,
  ) {}

  static async as(server: TestServer, subject: string, tenant: string, roles: string[]): Promise<GateClient> {
    return new GateClient(server, subject, tenant, await server.token(subject, tenant, roles));
  }

  private async call<T>(name: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return field(await this.server.gql<Record<string, T>>(this.bearer, query, variables), name);
  }

  requestApproval(input: RequestApprovalInput): Promise<Result<RequestApprovalPayload>> {
    return this.call('requestApproval', REQUEST_APPROVAL, { input });
  }

  decide(approvalId: string, decision: 'APPROVE' | 'REJECT' = 'APPROVE', comment?: string): Promise<Result<ApprovalData>> {
    return this.call('decide', DECIDE, { input: { approvalId, decision, ...(comment !== undefined && { comment }) } });
  }

  execute(input: ExecuteInput): Promise<Result<ExecutePayload>> {
    return this.call('execute', EXECUTE, { input });
  }

  completeExecution(executionId: string, outcome: 'SUCCEEDED' | 'FAILED', result?: unknown): Promise<Result<ExecutePayload>> {
    return this.call('completeExecution', COMPLETE_EXECUTION, { input: { executionId, outcome, result } });
  }

  approval(id: string): Promise<Result<ApprovalData>> {
    return this.call('approval', APPROVAL, { id });
  }

  approvals(filter: { status?: ApprovalStatus; action?: string; first?: number; after?: string } = {}): Promise<Result<Connection<ApprovalData, 'ApprovalConnection'>>> {
    return this.call('approvals', APPROVALS, filter);
  }

  auditEvents(filter: AuditFilter = {}): Promise<Result<Connection<AuditEventData, 'AuditEventConnection'>>> {
    return this.call('auditEvents', AUDIT_EVENTS, { ...filter });
  }

  /** Every audit event matching `filter`, following the cursor to the end. */
  async allAuditEvents(filter: Omit<AuditFilter, 'after'> = {}): Promise<AuditEventData[]> {
    const events: AuditEventData[] = [];
    let after: string | undefined;
    for (;;) {
      const page = expectType(await this.auditEvents({ first: 200, ...filter, ...(after !== undefined && { after }) }), 'AuditEventConnection');
      events.push(...page.edges.map((edge) => edge.node));
      if (!page.pageInfo.hasNextPage) return events;
      after = page.pageInfo.endCursor ?? undefined;
    }
  }

  verifyAuditChain(): Promise<Result<ChainVerificationData>> {
    return this.call('verifyAuditChain', VERIFY_AUDIT_CHAIN);
  }

  tenantSettings(): Promise<Result<TenantSettingsData>> {
    return this.call('tenantSettings', TENANT_SETTINGS);
  }

  updateTenantSettings(input: Record<string, unknown>): Promise<Result<TenantSettingsData>> {
    return this.call('updateTenantSettings', UPDATE_TENANT_SETTINGS, { input });
  }
}

/** The cast of one tenant: an agent, two approvers, two admins and an auditor. */
export interface Tenant {
  name: string;
  agent: GateClient;
  approver: GateClient;
  secondApprover: GateClient;
  admin: GateClient;
  secondAdmin: GateClient;
  auditor: GateClient;
}

/** A tenant no other test uses, so tests never see each other's approvals or audit chains. */
export async function freshTenant(server: TestServer, label = 'tenant'): Promise<Tenant> {
  const name = `${label}-${randomUUID().slice(0, 8)}`;
  const [agent, approver, secondApprover, admin, secondAdmin, auditor] = await Promise.all([
    GateClient.as(server, `agent-${name}`, name, ['agent']),
    GateClient.as(server, `approver-1-${name}`, name, ['approver']),
    GateClient.as(server, `approver-2-${name}`, name, ['approver']),
    GateClient.as(server, `admin-1-${name}`, name, ['admin']),
    GateClient.as(server, `admin-2-${name}`, name, ['admin']),
    GateClient.as(server, `auditor-${name}`, name, ['auditor']),
  ]);
  return { name, agent, approver, secondApprover, admin, secondAdmin, auditor };
}

/** The same tenant's clients, re-pointed at a restarted server (the tokens stay valid: same secret). */
export function onServer(tenant: Tenant, server: TestServer): Tenant {
  const move = (client: GateClient) => new GateClient(server, client.subject, client.tenant, client.bearer);
  return {
    name: tenant.name,
    agent: move(tenant.agent),
    approver: move(tenant.approver),
    secondApprover: move(tenant.secondApprover),
    admin: move(tenant.admin),
    secondAdmin: move(tenant.secondAdmin),
    auditor: move(tenant.auditor),
  };
}

// ------------------------------------------------------------------ assertions

/** Asserts the union member `typename` came back and narrows to it. */
export function expectType<T extends { __typename: string }, N extends string>(
  result: T | GateError,
  typename: N,
): Extract<T, { __typename: N }> {
  expect(result.__typename, JSON.stringify(result)).toBe(typename);
  return result as Extract<T, { __typename: N }>;
}

/** Asserts a typed failure with `code`, carried by the error type that belongs to that code. */
export function expectError(result: { __typename: string } | GateError, code: ErrorCode): GateError {
  expect({ typename: result.__typename, code: (result as GateError).code }, JSON.stringify(result)).toEqual({
    typename: ERROR_TYPENAMES[code],
    code,
  });
  return result as GateError;
}

/** Whether a decision was accepted (the Approval came back) rather than refused. */
export const isApproval = (result: Result<ApprovalData>): result is ApprovalData => result.__typename === 'Approval';

/** Asserts that exactly one of racing decisions was accepted; returns it and the refused rest. */
export function soleWinner(results: Result<ApprovalData>[]): { winner: ApprovalData; losers: GateError[] } {
  const winners = results.filter(isApproval);
  expect(winners).toHaveLength(1);
  return { winner: winners[0] as ApprovalData, losers: results.filter((result): result is GateError => !isApproval(result)) };
}

/** How a crowd of approvers races on one request: which server each sends to, and how each votes. */
export interface RaceOptions {
  serverOf?: (index: number) => TestServer;
  decisionOf?: (index: number) => 'APPROVE' | 'REJECT';
}

/**
 * Requests `input` (pending) and has `count` distinct approvers of the tenant, each with its own
 * caller token, decide it at once; by default all on the tenant's server and all approving.
 */
export async function raceDecisions(
  tenant: Tenant,
  input: RequestApprovalInput,
  count: number,
  { serverOf = () => tenant.agent.server, decisionOf = () => 'APPROVE' }: RaceOptions = {},
): Promise<{ approval: ApprovalData; results: Result<ApprovalData>[] }> {
  const { approval } = await request(tenant.agent, input, 'PENDING');
  const crowd = await Promise.all(
    Array.from({ length: count }, (_, index) => GateClient.as(serverOf(index), `approver-${index}-${tenant.name}`, tenant.name, ['approver'])),
  );
  const results = await Promise.all(crowd.map((approver, index) => approver.decide(approval.id, decisionOf(index))));
  return { approval, results };
}

/** Requests an action and asserts the request was stored as `status`. */
export async function request(
  agent: GateClient,
  input: RequestApprovalInput,
  status?: ApprovalStatus,
): Promise<RequestApprovalPayload> {
  const payload = expectType(await agent.requestApproval(input), 'RequestApprovalPayload');
  if (status !== undefined) expect(payload.approval.status, JSON.stringify(payload.approval.reasons)).toBe(status);
  return payload;
}

/** An allowed request's token, ready to execute. */
export async function allowedToken(agent: GateClient, input: RequestApprovalInput = QUICK_EMAIL): Promise<{ token: string; approval: ApprovalData }> {
  const payload = await request(agent, input, 'APPROVED');
  expect(payload.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  return { token: payload.token as string, approval: payload.approval };
}

/** The execute input that presents `token` for exactly what `requested` asked. */
export function executionOf(token: string, requested: RequestApprovalInput, extra: Partial<ExecuteInput> = {}): ExecuteInput {
  return { token, action: requested.action, resource: requested.resource ?? null, context: requested.context, ...extra };
}


// ------------------------------------------------------------------ direct database access

/** The subset of better-sqlite3 the tests use to reach around the server, as an attacker with disk access would. */
export interface SqliteFile {
  prepare(sql: string): { run(...params: unknown[]): { changes: number }; all(...params: unknown[]): unknown[] };
  close(): void;
}

const require = createRequire(import.meta.url);

/** Opens the server's SQLite file directly (the server keeps running; WAL allows a second connection). */
export function openDatabaseFile(server: TestServer): SqliteFile {
  const Database = require('better-sqlite3') as new (path: string) => SqliteFile;
  return new Database(server.config.databasePath);
}
