/** The GraphQL documents of the integration tests' typed clients, selecting every error's fields. */

// ------------------------------------------------------------------ documents

/** The fields each error type adds to `code` and `message`. */
const ERROR_EXTRAS: Record<string, string> = {
  UnauthenticatedError: '',
  ForbiddenError: 'requiredRoles',
  NotFoundError: 'entity id',
  InvalidInputError: 'field problem',
  AlreadyDecidedError: 'reason status executionStatus',
  SelfApprovalError: '',
  ExpiredError: 'expiresAt',
  TokenInvalidError: 'reason',
  TokenExpiredError: 'expiredAt',
  TokenReplayedError: '',
  ContextMismatchError: 'expectedHash presentedHash',
};

/** The selection of every error member of a result union (GraphQL refuses spreads of types a union cannot hold). */
function errorFields(...typenames: string[]): string {
  const extras = typenames
    .filter((typename) => ERROR_EXTRAS[typename])
    .map((typename) => `... on ${typename} { ${ERROR_EXTRAS[typename]} }`);
  return ['... on Error { __typename code message }', ...extras].join('\n');
}

const CALLER_ERRORS = ['UnauthenticatedError', 'ForbiddenError', 'InvalidInputError'];

const APPROVAL_FIELDS = `
  __typename id status action resource context contextHash requester riskScore riskLevel
  reasons { ruleId message fields } requiredApprovals remainingApprovals approverRoles escalated
  decisions { approver decision comment } expiresAt decidedAt tokenExpiresAt decisionToken createdAt
`;

const EXECUTE_PAYLOAD_FIELDS = `
  ... on ExecutePayload {
    __typename dryRun
    approval { ${APPROVAL_FIELDS} }
    execution { id approvalId status executor result }
  }
`;

export const REQUEST_APPROVAL = `
  mutation RequestApproval($input: RequestApprovalInput!) {
    requestApproval(input: $input) {
      ... on RequestApprovalPayload { __typename token replayed approval { ${APPROVAL_FIELDS} } }
      ${errorFields(...CALLER_ERRORS)}
    }
  }`;

export const DECIDE = `
  mutation Decide($input: DecideInput!) {
    decide(input: $input) {
      ... on Approval { ${APPROVAL_FIELDS} }
      ${errorFields(...CALLER_ERRORS, 'NotFoundError', 'AlreadyDecidedError', 'SelfApprovalError', 'ExpiredError')}
    }
  }`;

export const EXECUTE = `
  mutation Execute($input: ExecuteInput!) {
    execute(input: $input) {
      ${EXECUTE_PAYLOAD_FIELDS}
      ${errorFields(...CALLER_ERRORS, 'TokenInvalidError', 'TokenExpiredError', 'TokenReplayedError', 'ContextMismatchError')}
    }
  }`;

export const COMPLETE_EXECUTION = `
  mutation CompleteExecution($input: CompleteExecutionInput!) {
    completeExecution(input: $input) {
      ${EXECUTE_PAYLOAD_FIELDS}
      ${errorFields(...CALLER_ERRORS, 'NotFoundError', 'AlreadyDecidedError')}
    }
  }`;

export const APPROVAL = `
  query Approval($id: ID!) {
    approval(id: $id) { ... on Approval { ${APPROVAL_FIELDS} } ${errorFields(...CALLER_ERRORS, 'NotFoundError')} }
  }`;

export const APPROVALS = `
  query Approvals($status: ApprovalStatus, $action: String, $first: Int, $after: String) {
    approvals(status: $status, action: $action, first: $first, after: $after) {
      ... on ApprovalConnection {
        __typename
        edges { cursor node { ${APPROVAL_FIELDS} } }
        pageInfo { hasNextPage endCursor }
      }
      ${errorFields(...CALLER_ERRORS)}
    }
  }`;

export const AUDIT_EVENTS = `
  query AuditEvents($approvalId: ID, $type: String, $actor: String, $first: Int, $after: String) {
    auditEvents(approvalId: $approvalId, type: $type, actor: $actor, first: $first, after: $after) {
      ... on AuditEventConnection {
        __typename
        edges { cursor node { id seq type approvalId actor previousStatus newStatus details previousHash hash } }
        pageInfo { hasNextPage endCursor }
      }
      ${errorFields(...CALLER_ERRORS)}
    }
  }`;

export const VERIFY_AUDIT_CHAIN = `
  query VerifyAuditChain {
    verifyAuditChain { ... on AuditChainVerification { __typename ok checked brokenAt { seq id reason } } ${errorFields(...CALLER_ERRORS)} }
  }`;

const TENANT_SETTINGS_FIELDS = `__typename tenant threshold allowlist denylist requestTtlSeconds tokenTtlSeconds updatedBy`;

export const TENANT_SETTINGS = `
  query TenantSettings { tenantSettings { ... on TenantSettings { ${TENANT_SETTINGS_FIELDS} } ${errorFields(...CALLER_ERRORS)} } }`;

export const UPDATE_TENANT_SETTINGS = `
  mutation UpdateTenantSettings($input: UpdateTenantSettingsInput!) {
    updateTenantSettings(input: $input) { ... on TenantSettings { ${TENANT_SETTINGS_FIELDS} } ${errorFields(...CALLER_ERRORS)} }
  }`;
