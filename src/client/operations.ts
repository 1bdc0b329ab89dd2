/**
 * The GraphQL documents the SDK sends. Every result union is read as either its success type or
 * a member of the `Error` interface (`code`, `message` and the member's own fields).
 */

const APPROVAL_FIELDS = /* GraphQL */ `
  fragment ApprovalFields on Approval {
    id status action resource context contextHash agent sessionId requester confidence
    estimatedDurationMinutes priority source riskScore riskLevel reasons { ruleId message }
    requiredApprovals remainingApprovals approverRoles escalated
    decisions { approver decision comment decidedAt }
    expiresAt decidedAt tokenExpiresAt policyRevision createdAt updatedAt decisionToken
  }
`;

const EXECUTION_FIELDS = /* GraphQL */ `
  fragment ExecutionFields on Execution { id approvalId status executor result createdAt completedAt }
`;

/** Fields of the errors every authenticated operation can return. */
const CALLER_ERRORS = /* GraphQL */ `
  ... on Error { code message }
  ... on ForbiddenError { requiredRoles }
  ... on InvalidInputError { field problem }
`;

export const REQUEST_APPROVAL = /* GraphQL */ `
  mutation RequestApproval($input: RequestApprovalInput!) {
    requestApproval(input: $input) {
      __typename
      ... on RequestApprovalPayload { token replayed approval { ...ApprovalFields } }
      ${CALLER_ERRORS}
    }
  }
  ${APPROVAL_FIELDS}
`;

export const APPROVAL = /* GraphQL */ `
  query Approval($id: ID!) {
    approval(id: $id) {
      __typename
      ...ApprovalFields
      ${CALLER_ERRORS}
      ... on NotFoundError { entity }
    }
  }
  ${APPROVAL_FIELDS}
`;

export const APPROVALS = /* GraphQL */ `
  query Approvals($status: ApprovalStatus, $action: String, $agent: String, $sessionId: String, $first: Int, $after: String) {
    approvals(status: $status, action: $action, agent: $agent, sessionId: $sessionId, first: $first, after: $after) {
      __typename
      ... on ApprovalConnection { nodes { ...ApprovalFields } pageInfo { hasNextPage endCursor } }
      ${CALLER_ERRORS}
    }
  }
  ${APPROVAL_FIELDS}
`;

export const DECIDE = /* GraphQL */ `
  mutation Decide($input: DecideInput!) {
    decide(input: $input) {
      __typename
      ...ApprovalFields
      ${CALLER_ERRORS}
      ... on NotFoundError { entity }
      ... on AlreadyDecidedError { reason currentStatus: status }
      ... on ExpiredError { expiresAt }
    }
  }
  ${APPROVAL_FIELDS}
`;

export const EXECUTE = /* GraphQL */ `
  mutation Execute($input: ExecuteInput!) {
    execute(input: $input) {
      __typename
      ... on ExecutePayload { dryRun approval { ...ApprovalFields } execution { ...ExecutionFields } }
      ${CALLER_ERRORS}
      ... on TokenInvalidError { reason }
      ... on TokenExpiredError { expiredAt }
      ... on ContextMismatchError { expectedHash presentedHash }
    }
  }
  ${APPROVAL_FIELDS}
  ${EXECUTION_FIELDS}
`;

export const COMPLETE_EXECUTION = /* GraphQL */ `
  mutation CompleteExecution($input: CompleteExecutionInput!) {
    completeExecution(input: $input) {
      __typename
      ... on ExecutePayload { dryRun approval { ...ApprovalFields } execution { ...ExecutionFields } }
      ${CALLER_ERRORS}
      ... on NotFoundError { entity }
      ... on AlreadyDecidedError { reason currentStatus: status }
    }
  }
  ${APPROVAL_FIELDS}
  ${EXECUTION_FIELDS}
`;

export const AUDIT_EVENTS = /* GraphQL */ `
  query AuditEvents(
    $approvalId: ID, $type: String, $actor: String, $since: DateTime, $until: DateTime, $first: Int, $after: String
  ) {
    auditEvents(
      approvalId: $approvalId, type: $type, actor: $actor, since: $since, until: $until, first: $first, after: $after
    ) {
      __typename
      ... on AuditEventConnection {
        nodes { id seq type approvalId actor previousStatus newStatus details occurredAt previousHash hash }
        pageInfo { hasNextPage endCursor }
      }
      ${CALLER_ERRORS}
    }
  }
`;

export const VERIFY_AUDIT_CHAIN = /* GraphQL */ `
  query VerifyAuditChain {
    verifyAuditChain {
      __typename
      ... on AuditChainVerification { ok checked brokenAt { seq id reason } }
      ${CALLER_ERRORS}
    }
  }
`;

export const PENDING_APPROVALS = /* GraphQL */ `
  subscription PendingApprovals($current: Boolean) {
    pendingApprovals(current: $current) { kind approval { ...ApprovalFields } }
  }
  ${APPROVAL_FIELDS}
`;

export const APPROVAL_UPDATED = /* GraphQL */ `
  subscription ApprovalUpdated($id: ID!, $current: Boolean) {
    approvalUpdated(id: $id, current: $current) { kind previousStatus token approval { ...ApprovalFields } }
  }
  ${APPROVAL_FIELDS}
`;
