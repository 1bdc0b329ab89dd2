import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Approval, ApprovalRequest, CountersignClient, ExecutePayload, Priority } from '../../client/index.js';
import { errorResult, outputSchema, toolError, toolResult } from './tool-results.js';
import { progressReporter, waitForSettled, type HandlerExtra } from './waiting.js';

/** The version reported in the MCP handshake. */
export const MCP_SERVER_VERSION = '0.1.0';

/** The longest `wait_for_decision` may block, in seconds. */
const MAX_WAIT_SECONDS = 3_600;
const DEFAULT_WAIT_SECONDS = 60;

const nullableString = { type: ['string', 'null'] } as const;
const REASONS_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    properties: { ruleId: { type: 'string' }, message: { type: 'string' }, fields: { type: 'array', items: { type: 'string' } } },
    required: ['ruleId', 'message'],
  },
} as const;
const STATUS_SCHEMA = { type: 'string', enum: ['PENDING', 'APPROVED', 'REJECTED', 'DENIED', 'EXPIRED', 'EXECUTED', 'FAILED'] } as const;

/** What every tool that returns an approval reports about it. */
const APPROVAL_SUMMARY_PROPERTIES = {
  approvalId: { type: 'string' },
  status: STATUS_SCHEMA,
  action: { type: 'string' },
  resource: nullableString,
  riskScore: { type: 'integer' },
  riskLevel: { type: 'string' },
  reasons: REASONS_SCHEMA,
  requiredApprovals: { type: 'integer' },
  remainingApprovals: { type: 'integer' },
  expiresAt: { type: 'string', format: 'date-time' },
  decisions: {
    type: 'array',
    items: {
      type: 'object',
      properties: { approver: { type: 'string' }, decision: { type: 'string' }, comment: nullableString, decidedAt: { type: 'string' } },
    },
  },
  token: { ...nullableString, description: 'The decision token, when the action may run; pass it to execute.' },
} as const;
const APPROVAL_SUMMARY_REQUIRED = ['approvalId', 'status', 'action', 'riskScore', 'riskLevel', 'reasons', 'token'];

/** The output of a tool that reports an approval, with the flag of its own it adds, if any. */
function approvalOutput(flag?: 'replayed' | 'decided'): Tool['outputSchema'] {
  if (flag === undefined) return outputSchema({ properties: APPROVAL_SUMMARY_PROPERTIES, required: APPROVAL_SUMMARY_REQUIRED });
  return outputSchema({
    properties: { ...APPROVAL_SUMMARY_PROPERTIES, [flag]: { type: 'boolean' } },
    required: [...APPROVAL_SUMMARY_REQUIRED, flag],
  });
}

const EXECUTION_OUTPUT = outputSchema({
  properties: {
    executionId: nullableString,
    executionStatus: { type: ['string', 'null'], enum: ['STARTED', 'SUCCEEDED', 'FAILED', null] },
    approvalId: { type: 'string' },
    status: STATUS_SCHEMA,
    dryRun: { type: 'boolean' },
  },
  required: ['executionId', 'approvalId', 'status', 'dryRun'],
});

/**
 * One gate tool. Its input is a closed object, and none of the gate's tools destroys anything or
 * reaches beyond the gate, so only reading and idempotence differ between their annotations.
 */
function gateTool(tool: {
  name: string;
  title: string;
  description: string;
  input: { properties: Record<string, object>; required: string[] };
  outputSchema: Tool['outputSchema'];
  readOnly: boolean;
  idempotent: boolean;
}): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: { type: 'object', ...tool.input, additionalProperties: false },
    outputSchema: tool.outputSchema,
    annotations: { title: tool.title, readOnlyHint: tool.readOnly, destructiveHint: false, idempotentHint: tool.idempotent, openWorldHint: false },
  };
}

/** The tools an agent uses to ask for approval explicitly, with their schemas and annotations. */
export const GATE_TOOLS: Tool[] = [
  gateTool({
    name: 'request_approval',
    title: 'Request approval',
    description:
      'Ask the approval gate whether an action may run. The policy allows it at once (the result carries a decision token), ' +
      'denies it, or asks humans to approve it (status PENDING: call wait_for_decision). The context must be exactly the ' +
      'parameters the action will run with: the token is bound to them.',
    input: {
      properties: {
        action: { type: 'string', description: 'The action type, e.g. payment or delete_records.', minLength: 1, maxLength: 256 },
        resource: { type: 'string', description: 'What the action acts on, e.g. an account or a table.' },
        context: { type: 'object', description: 'The exact parameters of the action.', additionalProperties: true },
        agent: { type: 'string', description: 'Which agent asks.' },
        sessionId: { type: 'string' },
        estimatedDurationMinutes: { type: 'number', minimum: 0 },
        priority: { type: 'string', enum: ['low', 'normal', 'high', 'critical'] },
        confidence: { type: 'number', minimum: 0, maximum: 1, description: 'The agent\'s confidence in the action, 0 to 1.' },
        idempotencyKey: { type: 'string', description: 'Repeating a key returns the original request instead of a new one.' },
      },
      required: ['action', 'context'],
    },
    outputSchema: approvalOutput('replayed'),
    readOnly: false,
    idempotent: false,
  }),
  gateTool({
    name: 'get_approval',
    title: 'Get an approval',
    description: 'The current state of one approval request: status, risk, reasons, votes and, once approved, the decision token.',
    input: {
      properties: { approvalId: { type: 'string', minLength: 1 } },
      required: ['approvalId'],
    },
    outputSchema: approvalOutput(),
    readOnly: true,
    idempotent: true,
  }),
  gateTool({
    name: 'wait_for_decision',
    title: 'Wait for a decision',
    description:
      'Block until a pending request is decided or the timeout passes, sending progress notifications meanwhile when the ' +
      'request carries a progress token. Returns the final status (and the decision token when approved); a request still ' +
      'PENDING at the timeout is not an error: wait again.',
    input: {
      properties: {
        approvalId: { type: 'string', minLength: 1 },
        timeoutSeconds: { type: 'number', minimum: 0, maximum: MAX_WAIT_SECONDS, default: DEFAULT_WAIT_SECONDS },
      },
      required: ['approvalId'],
    },
    outputSchema: approvalOutput('decided'),
    readOnly: true,
    idempotent: true,
  }),
  gateTool({
    name: 'execute',
    title: 'Redeem a decision token',
    description:
      'Redeem a decision token, once, for the exact action it was issued for (same action, resource and context), just ' +
      'before running the action. Report how it ended with complete_execution, or pass outcome here.',
    input: {
      properties: {
        token: { type: 'string', minLength: 1 },
        action: { type: 'string', minLength: 1 },
        resource: { type: 'string' },
        context: { type: 'object', additionalProperties: true },
        outcome: { type: 'string', enum: ['SUCCEEDED', 'FAILED'] },
        result: { description: 'What the action returned, kept with the execution.' },
        dryRun: { type: 'boolean', description: 'Verify the token and context without consuming the token.' },
      },
      required: ['token', 'action', 'context'],
    },
    outputSchema: EXECUTION_OUTPUT,
    readOnly: false,
    idempotent: false,
  }),
  gateTool({
    name: 'complete_execution',
    title: 'Report an execution\'s outcome',
    description: 'Report how an execution started with execute ended; FAILED leaves the approval FAILED.',
    input: {
      properties: {
        executionId: { type: 'string', minLength: 1 },
        outcome: { type: 'string', enum: ['SUCCEEDED', 'FAILED'] },
        result: { description: 'What the action returned, kept with the execution.' },
      },
      required: ['executionId', 'outcome'],
    },
    outputSchema: EXECUTION_OUTPUT,
    readOnly: false,
    idempotent: true,
  }),
];

/** An approval as the tools report it. */
export function approvalSummary(approval: Approval, token: string | null = approval.decisionToken): Record<string, unknown> {
  return {
    approvalId: approval.id,
    status: approval.status,
    action: approval.action,
    resource: approval.resource,
    riskScore: approval.riskScore,
    riskLevel: approval.riskLevel,
    reasons: approval.reasons,
    requiredApprovals: approval.requiredApprovals,
    remainingApprovals: approval.remainingApprovals,
    expiresAt: approval.expiresAt,
    decisions: approval.decisions,
    token: approval.status === 'APPROVED' ? token : null,
  };
}

type Arguments = Record<string, unknown>;

function text(args: Arguments, field: string): string | null {
  const value = args[field];
  return typeof value === 'string' ? value : null;
}

function number(args: Arguments, field: string): number | null {
  const value = args[field];
  return typeof value === 'number' ? value : null;
}

function invalid(field: string, problem: string): CallToolResult {
  return toolError('INVALID_INPUT', `${field} ${problem}.`, { field });
}

/**
 * The Countersign MCP server: the gate's agent operations as MCP tools, carried out through the
 * agent SDK as the caller whose token `client` holds. The same server runs at `/mcp` (Streamable
 * HTTP, one per request) and over stdio (`countersign mcp`).
 */
export function createGateMcpServer(client: CountersignClient): Server {
  const server = new Server(
    { name: 'countersign', title: 'Countersign approval gate', version: MCP_SERVER_VERSION },
    {
      capabilities: { tools: {} },
      instructions:
        'Before an action with consequences, call request_approval with its exact parameters. If the status is APPROVED, ' +
        'call execute with the token right before acting, then complete_execution. If PENDING, call wait_for_decision. ' +
        'Never act on DENIED, REJECTED or EXPIRED.',
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: GATE_TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const args = (request.params.arguments ?? {}) as Arguments;
    try {
      switch (request.params.name) {
        case 'request_approval':
          return await requestApproval(client, args);
        case 'get_approval': {
          const approvalId = text(args, 'approvalId');
          if (!approvalId) return invalid('approvalId', 'is required');
          return toolResult(approvalSummary(await client.approval(approvalId)));
        }
        case 'wait_for_decision':
          return await waitForDecision(client, args, extra);
        case 'execute':
          return await execute(client, args);
        case 'complete_execution':
          return await completeExecution(client, args);
        default:
          throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${request.params.name}`);
      }
    } catch (error) {
      return errorResult(error);
    }
  });
  return server;
}

async function requestApproval(client: CountersignClient, args: Arguments): Promise<CallToolResult> {
  const action = text(args, 'action');
  if (!action) return invalid('action', 'is required');
  const context = args['context'];
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return invalid('context', 'must be a JSON object');
  const request: ApprovalRequest = {
    action,
    context: context as Record<string, unknown>,
    resource: text(args, 'resource'),
    agent: text(args, 'agent'),
    sessionId: text(args, 'sessionId'),
    estimatedDurationMinutes: number(args, 'estimatedDurationMinutes'),
    priority: text(args, 'priority') as Priority | null,
    confidence: number(args, 'confidence'),
    idempotencyKey: text(args, 'idempotencyKey'),
  };
  const { approval, token, replayed } = await client.requestApproval(request);
  return toolResult({ ...approvalSummary(approval, token), replayed });
}

async function waitForDecision(client: CountersignClient, args: Arguments, extra: HandlerExtra): Promise<CallToolResult> {
  const approvalId = text(args, 'approvalId');
  if (!approvalId) return invalid('approvalId', 'is required');
  const timeoutSeconds = number(args, 'timeoutSeconds') ?? DEFAULT_WAIT_SECONDS;
  if (timeoutSeconds < 0 || timeoutSeconds > MAX_WAIT_SECONDS) return invalid('timeoutSeconds', `must be from 0 to ${MAX_WAIT_SECONDS}`);
  const approval = await client.approval(approvalId);
  const outcome = await waitForSettled(client, approval, {
    timeoutMs: timeoutSeconds * 1000,
    signal: extra.signal,
    report: progressReporter(extra),
  });
  const summary = outcome.settled ? approvalSummary(outcome.approval, outcome.token) : approvalSummary(outcome.approval);
  return toolResult({ ...summary, decided: outcome.settled });
}

/** An execution as execute and complete_execution report it (EXECUTION_OUTPUT). */
function executionResult(payload: ExecutePayload): CallToolResult {
  return toolResult({
    executionId: payload.execution?.id ?? null,
    executionStatus: payload.execution?.status ?? null,
    approvalId: payload.approval.id,
    status: payload.approval.status,
    dryRun: payload.dryRun,
  });
}

async function execute(client: CountersignClient, args: Arguments): Promise<CallToolResult> {
  const token = text(args, 'token');
  const action = text(args, 'action');
  const context = args['context'];
  if (!token) return invalid('token', 'is required');
  if (!action) return invalid('action', 'is required');
  if (typeof context !== 'object' || context === null || Array.isArray(context)) return invalid('context', 'must be a JSON object');
  const outcome = text(args, 'outcome');
  const payload = await client.execute({
    token,
    action,
    resource: text(args, 'resource'),
    context: context as Record<string, unknown>,
    ...(outcome === 'SUCCEEDED' || outcome === 'FAILED' ? { outcome } : {}),
    ...('result' in args && { result: args['result'] }),
    dryRun: args['dryRun'] === true,
  });
  return executionResult(payload);
}

async function completeExecution(client: CountersignClient, args: Arguments): Promise<CallToolResult> {
  const executionId = text(args, 'executionId');
  const outcome = text(args, 'outcome');
  if (!executionId) return invalid('executionId', 'is required');
  if (outcome !== 'SUCCEEDED' && outcome !== 'FAILED') return invalid('outcome', 'must be SUCCEEDED or FAILED');
  const payload = await client.completeExecution({ executionId, outcome, ...('result' in args && { result: args['result'] }) });
  return executionResult(payload);
}
