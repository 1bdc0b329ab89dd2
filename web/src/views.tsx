// Detail, history and the auditor's audit view.
import { useEffect, useState } from 'preact/hooks';
import type { Approval, AuditEvent, AuditChainVerification, CountersignClient } from '../../src/client/core.js';
import { DecisionControls } from './decide.js';
import { RiskBadge } from './risk.js';
import type { Claims } from './session.js';
import { plainError, when } from './words.js';

const canAudit = (claims: Claims) => claims.roles.includes('auditor') || claims.roles.includes('admin');

/** Context keys named in the policy's reasons, highlighted in the JSON. */
/** The context keys the policy's reasons rest on, as the request spelled them. */
function flaggedKeys(approval: Approval): Set<string> {
  return new Set(approval.reasons.flatMap((reason) => reason.fields));
}

const NONE: ReadonlySet<string> = new Set();

function JsonTree({ value, flagged, name }: { value: unknown; flagged: ReadonlySet<string>; name?: string }) {
  const label = name === undefined ? null : flagged.has(name) ? <mark title="a rule of the policy rests on this field">{name}</mark> : <span class="key">{name}</span>;
  if (value && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((child, index) => [String(index), child] as const) : Object.entries(value);
    return (
      <details open>
        <summary>
          {label}
          {label && ': '}
          {Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}
        </summary>
        <ul class="json">
          {entries.map(([key, child]) => (
            <li key={key}>
              {/* The policy reads top-level keys only: a nested key of the same name is not flagged. */}
              <JsonTree value={child} flagged={name === undefined ? flagged : NONE} name={key} />
            </li>
          ))}
        </ul>
      </details>
    );
  }
  return (
    <span>
      {label}
      {label && ': '}
      <code>{JSON.stringify(value)}</code>
    </span>
  );
}

export function Detail({ client, claims, id, announce }: { client: CountersignClient; claims: Claims; id: string; announce: (message: string) => void }) {
  const [approval, setApproval] = useState<Approval | null>(null);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    try {
      setApproval(await client.approval(id));
      if (canAudit(claims)) setEvents((await client.auditEvents({ approvalId: id, first: 200 })).nodes);
    } catch (failure) {
      setError(plainError(failure));
    }
  };
  useEffect(() => {
    void load();
  }, [id]);
  if (error) return <p role="alert" class="error">{error}</p>;
  if (!approval) return <p>Loading…</p>;
  const flagged = flaggedKeys(approval);
  const timeline: [string, string, string][] = events
    ? events.map((event) => [event.occurredAt, event.type.replace(/_/g, ' '), `${event.actor}${event.newStatus ? ` → ${event.newStatus}` : ''}`])
    : [
        [approval.createdAt, 'requested', approval.requester],
        ...approval.decisions.map((vote): [string, string, string] => [vote.decidedAt, vote.decision === 'APPROVE' ? 'approved by' : 'rejected by', vote.approver]),
        ...(approval.decidedAt ? [[approval.decidedAt, approval.status.toLowerCase(), ''] as [string, string, string]] : []),
      ];
  return (
    <section aria-labelledby="detail-heading">
      <p>
        <a href="#/pending">Back to pending requests</a>
      </p>
      <h2 id="detail-heading" tabIndex={-1}>
        {approval.action}
        {approval.resource ? ` on ${approval.resource}` : ''}
      </h2>
      <p>
        <span class={`status status-${approval.status}`}>{approval.status}</span> <RiskBadge level={approval.riskLevel} score={approval.riskScore} />
      </p>
      <dl class="facts">
        <div><dt>Requested by</dt><dd>{approval.requester}{approval.agent ? ` (agent ${approval.agent})` : ''}</dd></div>
        <div><dt>Requested</dt><dd>{when(approval.createdAt)}</dd></div>
        <div><dt>Expires</dt><dd>{when(approval.expiresAt)}</dd></div>
        <div><dt>Approvals</dt><dd>{approval.requiredApprovals - approval.remainingApprovals} of {approval.requiredApprovals}, {approval.remainingApprovals} remaining</dd></div>
        <div><dt>Who may decide</dt><dd>{approval.approverRoles.join(', ') || '—'}</dd></div>
        <div><dt>Policy revision</dt><dd><code>{approval.policyRevision}</code></dd></div>
        <div><dt>Context hash</dt><dd><code class="hash">{approval.contextHash}</code></dd></div>
      </dl>
      <h3>Why</h3>
      <ul>
        {approval.reasons.map((reason) => (
          <li key={reason.ruleId}>
            <code>{reason.ruleId}</code> {reason.message}
          </li>
        ))}
      </ul>
      <h3>Context</h3>
      {flagged.size > 0 && <p class="hint">Highlighted: the fields the policy's rules rest on.</p>}
      <div class="json-root">
        <JsonTree value={approval.context} flagged={flagged} />
      </div>
      <h3>Decisions</h3>
      {approval.decisions.length === 0 ? (
        <p>No decision yet.</p>
      ) : (
        <ul>
          {approval.decisions.map((vote) => (
            <li key={vote.approver + vote.decidedAt}>
              {vote.approver}: {vote.decision === 'APPROVE' ? 'approved' : 'rejected'} at {when(vote.decidedAt)}
              {vote.comment ? ` — “${vote.comment}”` : ''}
            </li>
          ))}
        </ul>
      )}
      <h3>Timeline</h3>
      <ol class="timeline">
        {timeline.map(([at, what, who], index) => (
          <li key={index}>
            <time dateTime={at}>{when(at)}</time> {what} {who}
          </li>
        ))}
      </ol>
      {approval.status === 'PENDING' && (
        <DecisionControls
          client={client}
          approval={approval}
          onDecided={(decided, message) => {
            setApproval(decided);
            announce(message);
            void load();
          }}
        />
      )}
    </section>
  );
}

export function History({ client }: { client: CountersignClient }) {
  const [rows, setRows] = useState<Approval[]>([]);
  const [after, setAfter] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const page = async (cursor: string | null) => {
    try {
      const result = await client.approvals({ first: 100, after: cursor });
      setRows((previous) => [...(cursor ? previous : []), ...result.nodes.filter((approval) => approval.status !== 'PENDING')]);
      setAfter(result.pageInfo.endCursor);
      setMore(result.pageInfo.hasNextPage);
    } catch (failure) {
      setError(plainError(failure));
    }
  };
  useEffect(() => {
    void page(null);
  }, [client]);
  const needle = text.trim().toLowerCase();
  const shown = rows.filter((approval) => !needle || JSON.stringify([approval.action, approval.resource, approval.status, approval.decisions, approval.requester]).toLowerCase().includes(needle));
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading" tabIndex={-1}>History</h2>
      <label>
        Search history
        <input type="search" value={text} onInput={(event) => setText(event.currentTarget.value)} />
      </label>
      {error && <p role="alert" class="error">{error}</p>}
      <ul class="history">
        {shown.map((approval) => (
          <li key={approval.id}>
            <a href={`#/approval/${encodeURIComponent(approval.id)}`}>
              {approval.action}
              {approval.resource ? ` on ${approval.resource}` : ''}
            </a>{' '}
            <span class={`status status-${approval.status}`}>{approval.status}</span>{' '}
            <span>
              by {approval.decisions.length ? approval.decisions.map((vote) => vote.approver).join(', ') : 'the policy'}, {when(approval.decidedAt ?? approval.updatedAt)}
            </span>
          </li>
        ))}
      </ul>
      {shown.length === 0 && <p>No decided request{needle ? ' matches' : ' yet'}.</p>}
      {more && <button type="button" onClick={() => void page(after)}>Load more</button>}
    </section>
  );
}

export function Audit({ client }: { client: CountersignClient }) {
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [verdict, setVerdict] = useState<AuditChainVerification | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [type, setType] = useState('');
  const load = async () => {
    try {
      setEvents((await client.auditEvents({ first: 200, type: type || null })).nodes);
    } catch (failure) {
      setError(plainError(failure));
    }
  };
  useEffect(() => {
    void load();
  }, [client, type]);
  return (
    <section aria-labelledby="audit-heading">
      <h2 id="audit-heading" tabIndex={-1}>Audit log</h2>
      <div class="actions">
        <button
          type="button"
          class="primary"
          onClick={async () => {
            try {
              setVerdict(await client.verifyAuditChain());
            } catch (failure) {
              setError(plainError(failure));
            }
          }}
        >
          Verify the chain
        </button>
        <label>
          Event type
          <input value={type} onChange={(event) => setType(event.currentTarget.value)} />
        </label>
      </div>
      <p role="status">
        {verdict &&
          (verdict.ok
            ? `The audit chain is intact: ${verdict.checked} events verified.`
            : !verdict.chainOk
              ? `The audit chain is broken at event ${verdict.brokenAt?.seq} (${verdict.brokenAt?.reason}); ${verdict.checked} events verified before it.`
              : `The audit chain's links are intact (${verdict.checked} events), but ${verdict.stateMismatchCount} approval(s) have a status their trail does not record.`)}
      </p>
      {error && <p role="alert" class="error">{error}</p>}
      <div class="table-wrap">
        <table>
          <caption>Oldest first, the first 200 events</caption>
          <thead>
            <tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Approval</th><th scope="col">Status</th></tr>
          </thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td>{event.seq}</td>
                <td>{when(event.occurredAt)}</td>
                <td>{event.type}</td>
                <td>{event.actor}</td>
                <td>{event.approvalId ? <a href={`#/approval/${encodeURIComponent(event.approvalId)}`}>{event.approvalId.slice(-8)}</a> : '—'}</td>
                <td>{event.newStatus ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export { canAudit };
