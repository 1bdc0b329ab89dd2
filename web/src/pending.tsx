// The live pending list: pendingApprovals over graphql-ws (current state first, then changes),
// never polled. Requests past their expiry leave the list on the page's own clock too.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Approval, CountersignClient } from '../../src/client/core.js';
import { BatchBar, DecisionControls } from './decide.js';
import { RiskBadge } from './risk.js';
import { plainError, timeLeft } from './words.js';

const RISKS = ['low', 'medium', 'high', 'critical'];

export function PendingList({ client, announce }: { client: CountersignClient; announce: (message: string) => void }) {
  const [items, setItems] = useState<Map<string, Approval>>(new Map());
  const [live, setLive] = useState<'connecting' | 'live' | 'failed'>('connecting');
  const [failure, setFailure] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [filters, setFilters] = useState({ action: '', agent: '', risk: '', text: '' });

  useEffect(() => {
    const abort = new AbortController();
    const stream = client.pendingApprovals({ current: true, signal: abort.signal });
    // The server sends the current pending requests, then every change: nothing is missed from here on.
    setLive('live');
    (async () => {
      try {
        for await (const event of stream) {
          setLive('live');
          setItems((previous) => {
            const next = new Map(previous);
            if (event.kind === 'REMOVED' || event.approval.status !== 'PENDING') next.delete(event.approval.id);
            else next.set(event.approval.id, event.approval);
            return next;
          });
        }
      } catch (error) {
        if (!abort.signal.aborted) {
          setLive('failed');
          setFailure(plainError(error));
        }
      }
    })();
    return () => abort.abort();
  }, [client]);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  const open = useMemo(
    () => [...items.values()].filter((approval) => Date.parse(approval.expiresAt) > now).sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
    [items, now],
  );
  const shown = open.filter((approval) => {
    const text = filters.text.trim().toLowerCase();
    return (
      (!filters.action || approval.action === filters.action) &&
      (!filters.agent || (approval.agent ?? approval.requester) === filters.agent) &&
      (!filters.risk || approval.riskLevel === filters.risk) &&
      (!text || JSON.stringify([approval.action, approval.resource, approval.requester, approval.agent, approval.context]).toLowerCase().includes(text))
    );
  });
  const actions = [...new Set(open.map((approval) => approval.action))].sort();
  const agents = [...new Set(open.map((approval) => approval.agent ?? approval.requester))].sort();
  const counts = RISKS.map((risk) => [risk, open.filter((approval) => approval.riskLevel === risk).length] as const);
  const selectedItems = open.filter((approval) => selected.has(approval.id));

  const toggle = (id: string) =>
    setSelected((previous) => {
      const next = new Set(previous);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const settle = (approval: Approval) =>
    setItems((previous) => {
      const next = new Map(previous);
      if (approval.status === 'PENDING') next.set(approval.id, approval);
      else next.delete(approval.id);
      return next;
    });

  return (
    <section aria-labelledby="pending-heading">
      <h2 id="pending-heading" tabIndex={-1}>
        Pending requests <span class="count">({open.length})</span>
      </h2>
      <p class="live-state" aria-live="polite">
        {live === 'live' ? 'Live: changes appear as they happen.' : live === 'connecting' ? 'Connecting…' : `Not live: ${failure}`}
      </p>
      <ul class="risk-counts" aria-label="Pending requests per risk level">
        {counts.map(([risk, count]) => (
          <li key={risk}>
            <RiskBadge level={risk} /> {count}
          </li>
        ))}
      </ul>
      <form class="filters" role="search" aria-label="Filter pending requests" onSubmit={(event) => event.preventDefault()}>
        <FilterSelect label="Action" value={filters.action} options={actions} onChange={(action) => setFilters({ ...filters, action })} />
        <FilterSelect label="Agent" value={filters.agent} options={agents} onChange={(agent) => setFilters({ ...filters, agent })} />
        <FilterSelect label="Risk" value={filters.risk} options={RISKS} onChange={(risk) => setFilters({ ...filters, risk })} />
        <label>
          Search
          <input type="search" value={filters.text} onInput={(event) => setFilters({ ...filters, text: event.currentTarget.value })} />
        </label>
      </form>
      {selectedItems.length > 0 && (
        <BatchBar
          client={client}
          selected={selectedItems}
          onClear={() => setSelected(new Set())}
          onDone={(results, message) => {
            for (const result of results) if (result.ok) settle(result.approval);
            setSelected(new Set());
            announce(message);
          }}
        />
      )}
      {shown.length === 0 ? (
        <p class="empty">{open.length === 0 ? 'Nothing is waiting for you.' : 'No pending request matches the filters.'}</p>
      ) : (
        <ul class="approvals">
          {shown.map((approval) => (
            <li key={approval.id}>
              <PendingItem
                client={client}
                approval={approval}
                now={now}
                selected={selected.has(approval.id)}
                onToggle={() => toggle(approval.id)}
                onDecided={(decided, message) => {
                  settle(decided);
                  announce(message);
                }}
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

interface ItemProps {
  client: CountersignClient;
  approval: Approval;
  now: number;
  selected: boolean;
  onToggle: () => void;
  onDecided: (approval: Approval, message: string) => void;
}

function PendingItem({ client, approval, now, selected, onToggle, onDecided }: ItemProps) {
  const given = approval.requiredApprovals - approval.remainingApprovals;
  const title = `${approval.action}${approval.resource ? ` on ${approval.resource}` : ''}`;
  const headingId = `title-${approval.id}`;
  return (
    <article aria-labelledby={headingId} class={`approval risk-${approval.riskLevel}`}>
      <header>
        <input type="checkbox" id={`select-${approval.id}`} checked={selected} onChange={onToggle} aria-label={`Select ${title}`} />
        <h3 id={headingId}>
          <span class="action">{approval.action}</span>
          {approval.resource && <span class="resource"> on {approval.resource}</span>}
        </h3>
        <RiskBadge level={approval.riskLevel} score={approval.riskScore} />
      </header>
      <dl class="facts">
        <div>
          <dt>Requested by</dt>
          <dd>
            {approval.requester}
            {approval.agent && approval.agent !== approval.requester ? ` (agent ${approval.agent})` : ''}
          </dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>
            <time dateTime={approval.expiresAt}>{timeLeft(approval.expiresAt, now)}</time>
          </dd>
        </div>
        <div>
          <dt>Approvals</dt>
          <dd>
            {given} of {approval.requiredApprovals} given, {approval.remainingApprovals} remaining
          </dd>
        </div>
        <div>
          <dt>Who may decide</dt>
          <dd>{approval.approverRoles.join(', ') || '—'}</dd>
        </div>
      </dl>
      <p class="reasons-line">{approval.reasons.map((reason) => `${reason.ruleId}: ${reason.message}`).join(' · ')}</p>
      <a href={`#/approval/${encodeURIComponent(approval.id)}`}>Details of {title}</a>
      <DecisionControls client={client} approval={approval} onDecided={onDecided} />
    </article>
  );
}

/** One filter of the list: a labelled choice among `options`, or All (the empty value). */
function FilterSelect(props: { label: string; value: string; options: readonly string[]; onChange: (value: string) => void }) {
  return (
    <label>
      {props.label}
      <select value={props.value} onChange={(event) => props.onChange(event.currentTarget.value)}>
        <option value="">All</option>
        {props.options.map((option) => (
          <option key={option}>{option}</option>
        ))}
      </select>
    </label>
  );
}
