import type { Approval, ApprovalStatus, CountersignClient } from '../../client/index.js';
import { HEAVY_RULE, LIGHT_RULE, detailBlock, heading, historyBlock, pendingBlock } from './format.js';
import {
  CliUsageError,
  commandOnId,
  connect,
  integerOption,
  noPositionals,
  parseCommand,
  print,
  printJson,
  type ClientCommand,
} from './shared.js';

const STATUSES: readonly ApprovalStatus[] = ['PENDING', 'APPROVED', 'REJECTED', 'DENIED', 'EXPIRED', 'EXECUTED', 'FAILED'];
const PAGE = 200;

/** Up to `limit` approvals matching `keep`, newest first, paging through the listing. */
async function collect(
  client: CountersignClient,
  filter: { status: ApprovalStatus | null; action: string | null; agent: string | null },
  limit: number,
  keep: (approval: Approval) => boolean = () => true,
): Promise<Approval[]> {
  const found: Approval[] = [];
  let after: string | null = null;
  do {
    const page = await client.approvals({ ...filter, first: PAGE, after });
    for (const approval of page.nodes) {
      if (keep(approval)) found.push(approval);
      if (found.length === limit) return found;
    }
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after !== null);
  return found;
}

export const list: ClientCommand = {
  usage: 'countersign approvals list [--status S|all] [--action A] [--agent A] [--limit N] [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(
      argv,
      { status: { type: 'string', default: 'PENDING' }, action: { type: 'string' }, agent: { type: 'string' }, limit: { type: 'string' } },
      this.usage,
    );
    noPositionals(positionals, this.usage);
    const requested = values.status.toUpperCase();
    if (requested !== 'ALL' && !STATUSES.includes(requested as ApprovalStatus)) {
      throw new CliUsageError(`--status must be one of ${STATUSES.join(', ')} or all`, this.usage);
    }
    const status = requested === 'ALL' ? null : (requested as ApprovalStatus);
    const limit = integerOption(values.limit, 'limit', 50, 1, 10_000, this.usage);
    const client = connect(values, env, this.usage);
    const approvals = await collect(client, { status, action: values.action ?? null, agent: values.agent ?? null }, limit);
    if (values.json) {
      printJson(approvals);
      return 0;
    }
    const title = status === null ? 'APPROVALS' : `${status} APPROVALS`;
    if (approvals.length === 0) {
      print(`No ${title.toLowerCase()}.`);
      return 0;
    }
    for (const line of heading(title)) print(line);
    approvals.forEach((approval, index) => {
      if (index > 0) print(LIGHT_RULE);
      for (const line of status === 'PENDING' ? pendingBlock(approval) : historyBlock(approval)) print(line);
    });
    print(HEAVY_RULE);
    print(`Total: ${approvals.length} ${title.toLowerCase()}`);
    return 0;
  },
};

export const show = commandOnId(
  'countersign show ID [--json]',
  'approval id',
  (client, id) => client.approval(id),
  (approval) => detailBlock(approval),
);

/** What one recorded vote did, as the lines the approve and reject commands print. */
function decisionLines(approval: Approval, reason: string | undefined): string[] {
  const lines: string[] = [];
  const self = approval.decisions.at(-1);
  if (approval.status === 'PENDING') {
    lines.push(`Recorded approval of ${approval.id}; ${approval.remainingApprovals} more approval(s) needed.`);
  } else {
    lines.push(`${approval.status === 'APPROVED' ? 'Approved' : approval.status === 'REJECTED' ? 'Rejected' : approval.status}: ${approval.id}`);
  }
  lines.push(`  Action:     ${approval.resource ? `${approval.action} (${approval.resource})` : approval.action}`);
  if (self) lines.push(`  Approver:   ${self.approver}`);
  if (reason) lines.push(`  Reason:     ${reason}`);
  lines.push(`  Status:     ${approval.status}`);
  return lines;
}

function decideCommand(decision: 'APPROVE' | 'REJECT'): ClientCommand {
  const verb = decision === 'APPROVE' ? 'approve' : 'reject';
  return {
    usage: `countersign ${verb} ID [ID...] [--reason TEXT] [--json]`,
    async run(argv, env) {
      const { values, positionals } = parseCommand(argv, { reason: { type: 'string', short: 'r' } }, this.usage);
      if (positionals.length === 0 || positionals.some((id) => !id)) throw new CliUsageError('expected one or more approval ids', this.usage);
      const client = connect(values, env, this.usage);
      const comment = values.reason ?? null;
      if (positionals.length === 1) {
        const approval = await client.decide({ approvalId: positionals[0] as string, decision, comment });
        if (values.json) printJson(approval);
        else for (const line of decisionLines(approval, values.reason)) print(line);
        return 0;
      }
      // Several ids: one call, each id decided on its own; refusals do not stop the others.
      const results = await client.decideMany({ approvalIds: positionals, decision, comment });
      const refused = results.filter((result) => !result.ok).length;
      if (values.json) {
        printJson(
          results.map((result) =>
            result.ok
              ? { approvalId: result.approvalId, ok: true, approval: result.approval }
              : { approvalId: result.approvalId, ok: false, error: { code: result.error.code, message: result.error.message, ...result.error.details } },
          ),
        );
      } else {
        results.forEach((result, index) => {
          if (index > 0) print(LIGHT_RULE);
          if (result.ok) for (const line of decisionLines(result.approval, values.reason)) print(line);
          else print(`Refused: ${result.approvalId}: ${result.error.code}: ${result.error.message}`);
        });
        print(HEAVY_RULE);
        print(`${results.length - refused} of ${results.length} recorded${refused ? `, ${refused} refused` : ''}`);
      }
      return refused === 0 ? 0 : 1;
    },
  };
}

export const approve = decideCommand('APPROVE');
export const reject = decideCommand('REJECT');

export const history: ClientCommand = {
  usage: 'countersign history [--limit N] [--action A] [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, { limit: { type: 'string' }, action: { type: 'string' } }, this.usage);
    noPositionals(positionals, this.usage);
    const limit = integerOption(values.limit, 'limit', 20, 1, 10_000, this.usage);
    const client = connect(values, env, this.usage);
    const decided = await collect(client, { status: null, action: values.action ?? null, agent: null }, limit, (approval) => approval.status !== 'PENDING');
    if (values.json) {
      printJson(decided);
      return 0;
    }
    if (decided.length === 0) {
      print('No decided approvals yet.');
      return 0;
    }
    for (const line of heading('APPROVAL HISTORY')) print(line);
    decided.forEach((approval, index) => {
      if (index > 0) print(LIGHT_RULE);
      for (const line of historyBlock(approval)) print(line);
    });
    print(HEAVY_RULE);
    print(`Total: ${decided.length} decided approval(s)`);
    return 0;
  },
};
