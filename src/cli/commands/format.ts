import type { Approval, PendingApprovalEvent } from '../../client/index.js';

const WIDTH = 72;
export const HEAVY_RULE = '='.repeat(WIDTH);
export const LIGHT_RULE = '-'.repeat(WIDTH);

/** An API instant without milliseconds, e.g. 2026-02-16T09:00:00Z. */
export function instant(value: string | null): string {
  return value === null ? '-' : value.replace(/\.\d+Z$/, 'Z');
}

/** A titled section: the title between heavy rules. */
export function heading(title: string): string[] {
  return [HEAVY_RULE, title, HEAVY_RULE];
}

function field(label: string, value: string): string {
  return `  ${`${label}:`.padEnd(12)}${value}`;
}

const actionOf = (approval: Approval): string => (approval.resource ? `${approval.action} (${approval.resource})` : approval.action);

const approvalsText = (approval: Approval): string => {
  const approvals = approval.decisions.filter((decision) => decision.decision === 'APPROVE').length;
  return `${approvals} of ${approval.requiredApprovals} (roles: ${approval.approverRoles.join(', ') || 'none'})`;
};

const requesterText = (approval: Approval): string => (approval.agent ? `${approval.requester} (agent ${approval.agent})` : approval.requester);

/** A pending approval as the listing shows it. */
export function pendingBlock(approval: Approval): string[] {
  return [
    approval.id,
    field('Action', actionOf(approval)),
    field('Requester', requesterText(approval)),
    field('Risk', `${approval.riskLevel} (score ${approval.riskScore})${approval.escalated ? ', escalated' : ''}`),
    field('Approvals', approvalsText(approval)),
    field('Created', instant(approval.createdAt)),
    field('Expires', instant(approval.expiresAt)),
    ...approval.reasons.map((reason, index) => field(index === 0 ? 'Reason' : '', `[${reason.ruleId}] ${reason.message}`)),
  ];
}

/** Everything about one approval, for `show`. */
export function detailBlock(approval: Approval): string[] {
  const lines = [
    ...heading(`APPROVAL ${approval.id}`),
    field('Status', approval.status),
    field('Action', actionOf(approval)),
    field('Requester', requesterText(approval)),
    ...(approval.sessionId ? [field('Session', approval.sessionId)] : []),
    field('Risk', `${approval.riskLevel} (score ${approval.riskScore})${approval.escalated ? ', escalated' : ''}`),
    field('Approvals', `${approvalsText(approval)}, ${approval.remainingApprovals} still needed`),
    field('Created', instant(approval.createdAt)),
    field('Expires', instant(approval.expiresAt)),
    field('Decided', instant(approval.decidedAt)),
    field('Policy', approval.policyRevision),
    field('Context #', approval.contextHash),
    '',
    'Reasons:',
    ...(approval.reasons.length ? approval.reasons.map((reason) => `  [${reason.ruleId}] ${reason.message}`) : ['  (none)']),
    '',
    'Decisions:',
    ...(approval.decisions.length ? approval.decisions.map(decisionLine) : ['  (none yet)']),
    '',
    'Context:',
    ...JSON.stringify(approval.context, null, 2)
      .split('\n')
      .map((line) => `  ${line}`),
  ];
  return lines;
}

function decisionLine(decision: Approval['decisions'][number]): string {
  return `  ${instant(decision.decidedAt)}  ${decision.decision.padEnd(7)} ${decision.approver}${decision.comment ? `  "${decision.comment}"` : ''}`;
}

/** A decided approval as the history shows it. */
export function historyBlock(approval: Approval): string[] {
  const decidedBy = approval.decisions.length
    ? approval.decisions.map((decision) => `${decision.approver} ${decision.decision}${decision.comment ? ` "${decision.comment}"` : ''}`)
    : [`policy (${approval.reasons.map((reason) => reason.ruleId).join(', ') || 'no rule'})`];
  return [
    `${instant(approval.decidedAt ?? approval.updatedAt)}  ${approval.status.padEnd(8)}  ${approval.id}`,
    field('Action', actionOf(approval)),
    field('Requester', requesterText(approval)),
    ...decidedBy.map((text, index) => field(index === 0 ? 'Decided by' : '', text)),
  ];
}

const EVENT_LABELS: Record<PendingApprovalEvent['kind'], string> = {
  CURRENT: 'PENDING',
  ADDED: 'NEW',
  UPDATED: 'VOTED',
  REMOVED: '',
};

/** One line per live event, for `watch`. */
export function eventLine(event: PendingApprovalEvent, at: Date = new Date()): string {
  const { approval } = event;
  const label = event.kind === 'REMOVED' ? approval.status : EVENT_LABELS[event.kind];
  const detail =
    event.kind === 'REMOVED'
      ? approval.decisions.length
        ? `by ${approval.decisions.map((decision) => decision.approver).join(', ')}`
        : 'no decision'
      : `risk ${approval.riskLevel}, ${approval.remainingApprovals} more approval(s) from ${approval.approverRoles.join('/') || 'nobody'}, requested by ${approval.requester}`;
  return `${instant(at.toISOString())}  ${label.padEnd(8)}  ${approval.id}  ${actionOf(approval)}  ${detail}`;
}
