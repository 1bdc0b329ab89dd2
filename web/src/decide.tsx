// Deciding: one request (comment optional, required to reject, confirmation on high and
// critical risk) or a batch of them through decideMany.
import { useRef, useState } from 'preact/hooks';
import type { Approval, BatchDecision, CountersignClient } from '../../src/client/core.js';
import { HIGH_RISK, plainError } from './words.js';

/** Resolves true when the approver confirms in a modal dialog (native <dialog>, focus trapped). */
export function confirmDialog(message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'confirm';
    dialog.setAttribute('aria-labelledby', 'confirm-text');
    const text = document.createElement('p');
    text.id = 'confirm-text';
    text.textContent = message;
    const confirm = document.createElement('button');
    confirm.textContent = confirmLabel;
    confirm.className = 'primary';
    const cancel = document.createElement('button');
    cancel.textContent = 'Cancel';
    const row = document.createElement('div');
    row.className = 'actions';
    row.append(confirm, cancel);
    dialog.append(text, row);
    const finish = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    confirm.addEventListener('click', () => finish(true));
    cancel.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

interface DecisionProps {
  client: CountersignClient;
  approval: Approval;
  onDecided: (approval: Approval, message: string) => void;
}

/**
 * The state of a control that decides with a comment: the comment, the error shown, whether a
 * decision is under way, and the rule that a rejection says why.
 */
function useDecisionForm<Field extends HTMLElement>() {
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const commentRef = useRef<Field>(null);
  /** Clears the last error; refuses (showing why, with the comment focused) a rejection without a comment. */
  function mayDecide(decision: 'APPROVE' | 'REJECT'): boolean {
    setError(null);
    if (decision === 'REJECT' && comment.trim() === '') {
      setError('A comment is required to reject: say why.');
      commentRef.current?.focus();
      return false;
    }
    return true;
  }
  return { comment, setComment, error, setError, busy, setBusy, commentRef, mayDecide };
}

/** Comment box and the Approve / Reject buttons of one pending request. */
export function DecisionControls({ client, approval, onDecided }: DecisionProps) {
  const { comment, setComment, error, setError, busy, setBusy, commentRef, mayDecide } = useDecisionForm<HTMLTextAreaElement>();
  const commentId = `comment-${approval.id}`;
  const errorId = `decision-error-${approval.id}`;
  const subject = `${approval.action}${approval.resource ? ` on ${approval.resource}` : ''}`;

  async function decide(decision: 'APPROVE' | 'REJECT') {
    if (!mayDecide(decision)) return;
    if (decision === 'APPROVE' && HIGH_RISK.has(approval.riskLevel)) {
      const ok = await confirmDialog(`Approve ${subject}? Its risk is ${approval.riskLevel} (score ${approval.riskScore}).`, 'Confirm approval');
      if (!ok) return;
    }
    setBusy(true);
    try {
      const decided = await client.decide({ approvalId: approval.id, decision, comment: comment.trim() || null });
      setComment('');
      const message =
        decided.status === 'PENDING'
          ? `Your approval of ${subject} is recorded; ${decided.remainingApprovals} more needed.`
          : `${decided.status === 'APPROVED' ? 'Approved' : decided.status === 'REJECTED' ? 'Rejected' : decided.status}: ${subject}.`;
      onDecided(decided, message);
    } catch (failure) {
      setError(plainError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="decision">
      <label for={commentId}>Comment</label>
      <textarea
        id={commentId}
        ref={commentRef}
        rows={2}
        value={comment}
        aria-describedby={error ? errorId : undefined}
        aria-invalid={error ? 'true' : undefined}
        onInput={(event) => setComment(event.currentTarget.value)}
        placeholder="Optional to approve, required to reject"
      />
      {error && (
        <p id={errorId} class="error" role="alert">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="button" class="approve" disabled={busy} onClick={() => void decide('APPROVE')}>
          Approve
        </button>
        <button type="button" class="reject" disabled={busy} onClick={() => void decide('REJECT')}>
          Reject
        </button>
      </div>
    </div>
  );
}

interface BatchProps {
  client: CountersignClient;
  selected: Approval[];
  onDone: (results: BatchDecision[], message: string) => void;
  onClear: () => void;
}

/** The bar over the list when requests are selected: one comment, one decision for all. */
export function BatchBar({ client, selected, onDone, onClear }: BatchProps) {
  const { comment, setComment, error, setError, busy, setBusy, commentRef, mayDecide } = useDecisionForm<HTMLInputElement>();

  async function decide(decision: 'APPROVE' | 'REJECT') {
    if (!mayDecide(decision)) return;
    const risky = selected.filter((approval) => HIGH_RISK.has(approval.riskLevel));
    if (decision === 'APPROVE' && risky.length > 0) {
      const ok = await confirmDialog(`Approve ${selected.length} requests? ${risky.length} of them are high or critical risk.`, 'Confirm approval');
      if (!ok) return;
    }
    setBusy(true);
    try {
      const results = await client.decideMany({ approvalIds: selected.map((approval) => approval.id), decision, comment: comment.trim() || null });
      const refused = results.filter((result) => !result.ok);
      const verb = decision === 'APPROVE' ? 'approved' : 'rejected';
      setComment('');
      onDone(
        results,
        `${results.length - refused.length} of ${results.length} ${verb}.` +
          refused.map((result) => ` ${result.approvalId}: ${result.ok ? '' : plainError(result.error)}`).join(''),
      );
    } catch (failure) {
      setError(plainError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="batch" aria-label="Selected requests">
      <p>
        <strong>{selected.length}</strong> selected
      </p>
      <label for="batch-comment">Comment for the selected requests</label>
      <input id="batch-comment" ref={commentRef} value={comment} onInput={(event) => setComment(event.currentTarget.value)} />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="button" class="approve" disabled={busy} onClick={() => void decide('APPROVE')}>
          Approve selected
        </button>
        <button type="button" class="reject" disabled={busy} onClick={() => void decide('REJECT')}>
          Reject selected
        </button>
        <button type="button" onClick={onClear}>
          Clear selection
        </button>
      </div>
    </section>
  );
}
