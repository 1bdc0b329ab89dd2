import type { NotificationEventType } from './events.js';

/** A reason as the policy gave it: the stable rule id and a message. */
export interface ReasonFacts {
  ruleId: string;
  message: string;
  /** The context keys the rule rested on (their names only: values stay out unless the channel opts in). */
  fields: string[];
}

/** The approval as a notification shows it: never its decision token, its context only on opt-in. */
export interface ApprovalSnapshot {
  id: string;
  tenant: string;
  action: string;
  resource: string | null;
  status: string;
  riskLevel: string;
  riskScore: number;
  reasons: ReasonFacts[];
  requiredApprovals: number;
  remainingApprovals: number;
  approverRoles: string[];
  expiresAt: string;
  /** The item in the web inbox, or null when no public URL is configured. */
  url: string | null;
  context?: Record<string, unknown>;
}

/** The JSON body of a webhook delivery (and what Slack and email are rendered from). */
export interface NotificationBody {
  type: NotificationEventType;
  /** When the event happened, ISO 8601. */
  timestamp: string;
  data: {
    approval: ApprovalSnapshot;
    execution?: { id: string | null; outcome: string };
  };
}

/** An email as the email channel sends it. */
export interface EmailMessage {
  to: string[];
  subject: string;
  text: string;
  html: string;
}

const TITLES: Record<NotificationEventType, string> = {
  'approval.required': 'Approval required',
  'approval.approved': 'Approved',
  'approval.rejected': 'Rejected',
  'approval.expired': 'Expired',
  'approval.denied': 'Denied by policy',
  'approval.escalated': 'Escalated to admins',
  'approval.expiring': 'Approval expiring soon',
  'execution.completed': 'Execution completed',
  'execution.failed': 'Execution failed',
};

/** The link to an approval in the web inbox, served by the Countersign server at `/`. */
export function inboxUrl(publicUrl: string | null, approvalId: string): string | null {
  return publicUrl === null ? null : `${publicUrl}/?approval=${encodeURIComponent(approvalId)}`;
}

/** "in 14 min", "in 2 h 5 min", "lapsed": how long until `expiresAt`, seen at `now`. */
export function timeToExpiry(expiresAt: Date, now: Date): string {
  const minutes = Math.round((expiresAt.getTime() - now.getTime()) / 60_000);
  if (expiresAt.getTime() <= now.getTime()) return 'lapsed';
  if (minutes < 1) return 'in less than a minute';
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `in ${hours} h` : `in ${hours} h ${rest} min`;
}

/** Text for a one-line header field: no line breaks, bounded. */
function oneLine(text: string, max = 200): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** "payment invoice-7", or just the action when there is no resource. */
function subjectOf(approval: ApprovalSnapshot): string {
  return approval.resource ? `${approval.action} ${approval.resource}` : approval.action;
}

/** The webhook body: the event, when it happened and the approval as it stood. */
export function webhookBody(type: NotificationEventType, occurredAt: Date, approval: ApprovalSnapshot, execution?: { id: string | null; outcome: string }): NotificationBody {
  return { type, timestamp: occurredAt.toISOString(), data: { approval, ...(execution && { execution }) } };
}

/** Slack's mrkdwn needs only &, < and > escaped. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A Slack Block Kit message: what is asked, the risk, the policy's reasons with their rule ids,
 * the time to expiry, and a button that opens the item in the inbox. The button is a link: a
 * decision is only ever made by a signed-in approver in the inbox or through the API.
 */
export function slackMessage(body: NotificationBody, now: Date): Record<string, unknown> {
  const { approval } = body.data;
  const title = TITLES[body.type];
  const expiresAt = new Date(approval.expiresAt);
  const epoch = Math.floor(expiresAt.getTime() / 1000);
  const fields = [
    { type: 'mrkdwn', text: `*Action*\n\`${slackEscape(oneLine(approval.action))}\`` },
    { type: 'mrkdwn', text: `*Resource*\n${approval.resource ? slackEscape(oneLine(approval.resource)) : '—'}` },
    { type: 'mrkdwn', text: `*Risk*\n${slackEscape(approval.riskLevel)} (${approval.riskScore})` },
    { type: 'mrkdwn', text: `*Status*\n${slackEscape(approval.status)}` },
  ];
  if (approval.status === 'PENDING') {
    fields.push({
      type: 'mrkdwn',
      text: `*Expires*\n<!date^${epoch}^{date_short_pretty} {time}|${approval.expiresAt}> (${timeToExpiry(expiresAt, now)})`,
    });
    fields.push({
      type: 'mrkdwn',
      text: `*Approvals*\n${approval.remainingApprovals} of ${approval.requiredApprovals} still needed (${slackEscape(approval.approverRoles.join(', ') || 'any approver')})`,
    });
  }
  if (body.data.execution) fields.push({ type: 'mrkdwn', text: `*Outcome*\n${slackEscape(body.data.execution.outcome)}` });
  const reasons = approval.reasons.length
    ? approval.reasons.map((reason) => `• \`${slackEscape(reason.ruleId)}\` ${slackEscape(oneLine(reason.message, 300))}`).join('\n')
    : '• (no reasons given)';
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: oneLine(`${title}: ${subjectOf(approval)}`, 150), emoji: false } },
    { type: 'section', fields },
    { type: 'section', text: { type: 'mrkdwn', text: `*Reasons*\n${reasons}` } },
  ];
  if (approval.context) {
    const json = JSON.stringify(approval.context, null, 2);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Context*\n\`\`\`${slackEscape(json.length > 2500 ? `${json.slice(0, 2500)}…` : json)}\`\`\`` } });
  }
  if (approval.url) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: approval.status === 'PENDING' ? 'Review in Countersign' : 'Open in Countersign' },
          url: approval.url,
          action_id: 'open_in_countersign',
        },
      ],
    });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Countersign · ${slackEscape(approval.tenant)} · ${approval.id}` }] });
  return { text: `${title}: ${oneLine(subjectOf(approval))} (${approval.riskLevel})`, blocks };
}

function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The email: `[Countersign] Approval required: <action> <resource> (<risk level>)`, in text and HTML. */
export function emailMessage(body: NotificationBody, to: string[], now: Date): EmailMessage {
  const { approval } = body.data;
  const title = TITLES[body.type];
  const subject = `[Countersign] ${title}: ${oneLine(subjectOf(approval))} (${oneLine(approval.riskLevel, 32)})`;
  const rows: [string, string][] = [
    ['Action', approval.action],
    ['Resource', approval.resource ?? '—'],
    ['Risk', `${approval.riskLevel} (${approval.riskScore})`],
    ['Status', approval.status],
  ];
  if (approval.status === 'PENDING') {
    rows.push(['Expires', `${approval.expiresAt} (${timeToExpiry(new Date(approval.expiresAt), now)})`]);
    rows.push(['Approvals', `${approval.remainingApprovals} of ${approval.requiredApprovals} still needed (${approval.approverRoles.join(', ') || 'any approver'})`]);
  }
  if (body.data.execution) rows.push(['Outcome', body.data.execution.outcome]);
  rows.push(['Approval', approval.id]);
  const reasons = approval.reasons.map((reason) => `${reason.ruleId}: ${reason.message}`);
  const context = approval.context ? JSON.stringify(approval.context, null, 2) : null;
  const text = [
    `${title}: ${subjectOf(approval)}`,
    '',
    ...rows.map(([label, value]) => `${label}: ${value}`),
    '',
    'Reasons:',
    ...(reasons.length ? reasons.map((reason) => `- ${reason}`) : ['- (no reasons given)']),
    ...(context ? ['', 'Context:', context] : []),
    ...(approval.url ? ['', `Review it in Countersign: ${approval.url}`] : []),
    '',
    'Decisions are made in Countersign only; replying to this email does nothing.',
  ].join('\n');
  const html = [
    `<h2>${htmlEscape(title)}: ${htmlEscape(subjectOf(approval))}</h2>`,
    '<table>',
    ...rows.map(([label, value]) => `<tr><th align="left">${htmlEscape(label)}</th><td>${htmlEscape(value)}</td></tr>`),
    '</table>',
    '<h3>Reasons</h3>',
    '<ul>',
    ...(reasons.length ? approval.reasons.map((reason) => `<li><code>${htmlEscape(reason.ruleId)}</code> ${htmlEscape(reason.message)}</li>`) : ['<li>(no reasons given)</li>']),
    '</ul>',
    ...(context ? ['<h3>Context</h3>', `<pre>${htmlEscape(context)}</pre>`] : []),
    ...(approval.url ? [`<p><a href="${htmlEscape(approval.url)}">Review it in Countersign</a></p>`] : []),
    '<p>Decisions are made in Countersign only; replying to this email does nothing.</p>',
  ].join('\n');
  return { to, subject, text, html };
}
