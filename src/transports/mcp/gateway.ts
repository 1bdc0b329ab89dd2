import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type ServerCapabilities,
  type Tool,
  type ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import {
  CountersignClientError,
  RefusedError,
  type Approval,
  type CountersignClient,
  type ToolHints,
} from '../../client/index.js';
import { canonicalize } from '../../domain/canonical-json.js';
import { MCP_SERVER_VERSION } from './gate-server.js';
import { errorResult, toolError } from './tool-results.js';
import { pendingMessage, progressReporter, waitForSettled, type HandlerExtra } from './waiting.js';

/** How the gateway is set up. */
export interface GatewayOptions {
  /** Countersign, as the agent whose caller token the client holds. */
  countersign: CountersignClient;
  /** The upstream MCP server, connected. */
  upstream: Client;
  /** The server's name in actions (`mcp.<name>.<tool>`) and the resource (`mcp:<name>`). */
  name: string;
  /** How long a call waits for a human decision before answering PENDING, in seconds. */
  waitSeconds: number;
  /** The inbox link of an approval, offered to the user while a call waits. */
  approvalUrl(approvalId: string): string;
  /** Diagnostics; stdout is the MCP channel, so they go elsewhere. */
  log?: (message: string) => void;
}

/** The gateway's own structured content on a call it did not forward, admitted by every output schema it lists. */
const GATE_REFUSAL_SCHEMA = {
  type: 'object',
  properties: {
    code: { type: 'string', description: 'PENDING, DENIED, REJECTED, EXPIRED or one of the gate\'s error codes.' },
    status: { type: 'string' },
    message: { type: 'string' },
    approvalId: { type: 'string' },
    url: { type: 'string' },
    reasons: { type: 'array' },
  },
  required: ['code', 'message'],
} as const;

/** How many of the caller's open requests for one tool are searched for the same arguments. */
const OPEN_REQUESTS_SEARCHED = 50;

/** A name usable in an action: letters, digits, `_` and `-`. */
export function gatewayName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[-_]+|-+$/g, '');
  return cleaned || 'upstream';
}

/**
 * An MCP server that fronts one upstream MCP server and gates its tools: every `tools/call` is an
 * approval request (action `mcp.<name>.<tool>`, resource `mcp:<name>`, context `{ arguments }`),
 * forwarded only after its decision token was redeemed, and reported with `completeExecution`.
 * Resources and prompts pass through unchanged.
 */
export class McpGateway {
  readonly server: Server;
  private readonly options: GatewayOptions;
  private readonly log: (message: string) => void;
  /** The upstream's tool annotations by tool name, as last listed. */
  private readonly annotations = new Map<string, ToolAnnotations | undefined>();
  /**
   * Requests this gateway answered PENDING, by context: a repeated call learns their outcome
   * (rejected, expired) once instead of filing a new request.
   */
  private readonly reportedPending = new Map<string, string>();

  constructor(options: GatewayOptions) {
    this.options = options;
    this.log = options.log ?? (() => {});
    const upstreamCapabilities = options.upstream.getServerCapabilities() ?? {};
    const capabilities: ServerCapabilities = { tools: { listChanged: upstreamCapabilities.tools?.listChanged ?? false } };
    if (upstreamCapabilities.resources) capabilities.resources = upstreamCapabilities.resources;
    if (upstreamCapabilities.prompts) capabilities.prompts = upstreamCapabilities.prompts;
    if (upstreamCapabilities.completions) capabilities.completions = upstreamCapabilities.completions;
    const upstreamInfo = options.upstream.getServerVersion();
    this.server = new Server(
      { name: `countersign-gateway/${options.name}`, title: `${upstreamInfo?.title ?? upstreamInfo?.name ?? options.name} (gated by Countersign)`, version: MCP_SERVER_VERSION },
      {
        capabilities,
        ...(options.upstream.getInstructions() !== undefined && { instructions: options.upstream.getInstructions() }),
      },
    );
    this.passThrough();
    this.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
      const listed = await options.upstream.listTools(request.params, { signal: extra.signal });
      for (const tool of listed.tools) this.annotations.set(tool.name, tool.annotations);
      return { ...listed, tools: listed.tools.map(admitRefusals) };
    });
    this.server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
      this.call(request.params.name, (request.params.arguments ?? {}) as Record<string, unknown>, extra),
    );
    // The upstream's own notifications (list changes, resource updates, log messages) reach the client.
    options.upstream.fallbackNotificationHandler = async (notification) => {
      await this.server.notification(notification as Parameters<Server['notification']>[0]).catch(() => {});
    };
  }

  /** Resources, resource templates, prompts and completions, forwarded as they are. */
  private passThrough(): void {
    const { upstream } = this.options;
    const capabilities = upstream.getServerCapabilities() ?? {};
    if (capabilities.resources) {
      this.server.setRequestHandler(ListResourcesRequestSchema, (request, extra) => upstream.listResources(request.params, { signal: extra.signal }));
      this.server.setRequestHandler(ListResourceTemplatesRequestSchema, (request, extra) =>
        upstream.listResourceTemplates(request.params, { signal: extra.signal }),
      );
      this.server.setRequestHandler(ReadResourceRequestSchema, (request, extra) => upstream.readResource(request.params, { signal: extra.signal }));
      if (capabilities.resources.subscribe) {
        this.server.setRequestHandler(SubscribeRequestSchema, (request, extra) => upstream.subscribeResource(request.params, { signal: extra.signal }));
        this.server.setRequestHandler(UnsubscribeRequestSchema, (request, extra) =>
          upstream.unsubscribeResource(request.params, { signal: extra.signal }),
        );
      }
    }
    if (capabilities.prompts) {
      this.server.setRequestHandler(ListPromptsRequestSchema, (request, extra) => upstream.listPrompts(request.params, { signal: extra.signal }));
      this.server.setRequestHandler(GetPromptRequestSchema, (request, extra) => upstream.getPrompt(request.params, { signal: extra.signal }));
    }
    if (capabilities.completions) {
      this.server.setRequestHandler(CompleteRequestSchema, (request, extra) => upstream.complete(request.params, { signal: extra.signal }));
    }
  }

  /** One gated tool call: request (or find) the approval, wait, redeem, forward, report. */
  private async call(tool: string, args: Record<string, unknown>, extra: HandlerExtra): Promise<CallToolResult> {
    const { countersign, name } = this.options;
    const action = `mcp.${name}.${tool}`;
    const resource = `mcp:${name}`;
    const context = { arguments: args };
    const key = canonicalize({ action, resource, context });
    const report = progressReporter(extra);
    try {
      let approval = await this.openRequest(action, resource, context, key);
      let token: string | null = approval?.decisionToken ?? null;
      if (!approval) {
        const hints = await this.hints(tool);
        const requested = await countersign.requestApproval({
          action,
          resource,
          context,
          agent: this.server.getClientVersion()?.name ?? null,
          ...(hints && { toolHints: hints }),
        });
        approval = requested.approval;
        token = requested.token;
      }
      if (approval.status === 'PENDING') {
        const outcome = await this.waitForDecision(approval, extra, report);
        approval = outcome.approval;
        token = outcome.settled ? outcome.token : null;
      }
      if (approval.status === 'PENDING') {
        this.reportedPending.set(key, approval.id);
        const url = this.options.approvalUrl(approval.id);
        return toolError('PENDING', `${tool} needs a human decision; ask an approver to decide approval ${approval.id} at ${url}, then call it again with the same arguments.`, {
          status: 'PENDING',
          approvalId: approval.id,
          url,
          remainingApprovals: approval.remainingApprovals,
          expiresAt: approval.expiresAt,
        });
      }
      this.reportedPending.delete(key);
      if (approval.status !== 'APPROVED' || !token) return refusal(tool, approval);
      return await this.forward(tool, args, action, resource, context, token, extra);
    } catch (error) {
      if (error instanceof CountersignClientError) return errorResult(error);
      throw error;
    }
  }

  /**
   * The caller's open request for exactly this call (idempotency by context): an approved one not
   * yet redeemed, one still pending, or one this gateway last answered PENDING that has since
   * been rejected or expired (reported once, then forgotten).
   */
  private async openRequest(action: string, resource: string, context: Record<string, unknown>, key: string): Promise<Approval | null> {
    const { countersign } = this.options;
    const same = (approval: Approval) =>
      approval.resource === resource && canonicalize(approval.context) === canonicalize(context);
    const [approved, pending] = await Promise.all(
      (['APPROVED', 'PENDING'] as const).map((status) => countersign.approvals({ action, status, first: OPEN_REQUESTS_SEARCHED })),
    );
    // A listing shows no token: read an approved request itself, as its requester.
    // An approval whose token has lapsed can no longer run; the call asks afresh.
    const ready = approved?.nodes.find((approval) => same(approval) && (approval.tokenExpiresAt === null || Date.parse(approval.tokenExpiresAt) > Date.now()));
    if (ready) return countersign.approval(ready.id);
    const waiting = pending?.nodes.find(same);
    if (waiting) return waiting;
    const reported = this.reportedPending.get(key);
    if (reported) {
      this.reportedPending.delete(key);
      const approval = await countersign.approval(reported).catch(() => null);
      if (approval && (approval.status === 'REJECTED' || approval.status === 'EXPIRED')) return approval;
    }
    return null;
  }

  /** The tool's annotations as the upstream declares them, listing its tools if not yet known. */
  private async hints(tool: string): Promise<ToolHints | null> {
    if (!this.annotations.has(tool)) {
      let cursor: string | undefined;
      do {
        const page = await this.options.upstream.listTools(cursor === undefined ? undefined : { cursor });
        for (const listed of page.tools) this.annotations.set(listed.name, listed.annotations);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    }
    const annotations = this.annotations.get(tool);
    if (!annotations) return null;
    const hints: ToolHints = {};
    for (const field of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const) {
      if (typeof annotations[field] === 'boolean') hints[field] = annotations[field];
    }
    return Object.keys(hints).length > 0 ? hints : null;
  }

  /**
   * Waits for the decision with progress notifications; where the client supports URL-mode
   * elicitation, offers the user the inbox link meanwhile, and tells the client when it is done.
   */
  private async waitForDecision(approval: Approval, extra: HandlerExtra, report: (message: string) => void) {
    const url = this.options.approvalUrl(approval.id);
    const elicitationId = `countersign-${approval.id}-${Date.now()}`;
    const offersUrl = this.server.getClientCapabilities()?.elicitation?.url !== undefined;
    if (offersUrl) {
      this.server
        .elicitInput(
          { mode: 'url', elicitationId, url, message: `${approval.action} needs approval (${approval.reasons.map((reason) => reason.ruleId).join(', ') || 'policy'}). Open the inbox to see or share the request.` },
          { relatedRequestId: extra.requestId, signal: extra.signal },
        )
        .catch((error: unknown) => this.log(`elicitation not shown: ${String(error)}`));
    }
    try {
      return await waitForSettled(this.options.countersign, approval, {
        timeoutMs: this.options.waitSeconds * 1000,
        signal: extra.signal,
        report: (message) => report(message === pendingMessage(approval) ? `${message} Approve at ${url}` : message),
      });
    } finally {
      if (offersUrl) await this.server.createElicitationCompletionNotifier(elicitationId, { relatedRequestId: extra.requestId })().catch(() => {});
    }
  }

  /** Redeems the token, then forwards the call, then reports the upstream's outcome. */
  private async forward(
    tool: string,
    args: Record<string, unknown>,
    action: string,
    resource: string,
    context: Record<string, unknown>,
    token: string,
    extra: HandlerExtra,
  ): Promise<CallToolResult> {
    const { countersign, upstream, name } = this.options;
    // The token is consumed before anything reaches the upstream: never a call without one.
    const executed = await countersign.execute({ token, action, resource, context });
    const executionId = executed.execution?.id;
    if (!executionId) throw new RefusedError('TOKEN_INVALID', 'The gate started no execution for this token.');
    const audit = (upstreamOutcome: string, detail: Record<string, unknown> = {}) => ({ mcpServer: name, tool, upstreamOutcome, ...detail });
    let result: CallToolResult;
    try {
      const progressToken = extra._meta?.progressToken;
      result = (await upstream.callTool({ name: tool, arguments: args }, undefined, {
        signal: extra.signal,
        resetTimeoutOnProgress: true,
        ...(progressToken !== undefined && {
          onprogress: (progress) => {
            extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } }).catch(() => {});
          },
        }),
      })) as CallToolResult;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await countersign
        .completeExecution({ executionId, outcome: 'FAILED', result: audit('protocol_error', { error: message }) })
        .catch((reportError: unknown) => this.log(`could not report the failed execution ${executionId}: ${String(reportError)}`));
      return toolError('UPSTREAM_ERROR', `The upstream server failed on ${tool}: ${message}`, { approvalId: executed.approval.id, executionId });
    }
    const failed = result.isError === true;
    await countersign
      .completeExecution({ executionId, outcome: failed ? 'FAILED' : 'SUCCEEDED', result: audit(failed ? 'error' : 'success') })
      .catch((reportError: unknown) => this.log(`could not report the execution ${executionId}: ${String(reportError)}`));
    return result;
  }
}

/** Why a call was not forwarded: denied by the policy, rejected by a person, or expired. */
function refusal(tool: string, approval: Approval): CallToolResult {
  const rejection = approval.decisions.find((decision) => decision.decision === 'REJECT');
  const why =
    approval.status === 'DENIED'
      ? `the policy denied it: ${approval.reasons.map((reason) => `[${reason.ruleId}] ${reason.message}`).join('; ') || 'no reason given'}`
      : approval.status === 'REJECTED'
        ? `${rejection?.approver ?? 'an approver'} rejected it${rejection?.comment ? `: ${rejection.comment}` : ''}`
        : approval.status === 'EXPIRED'
          ? 'nobody decided it before it expired'
          : `its approval is ${approval.status}`;
  return toolError(approval.status, `${tool} was not run: ${why}.`, {
    status: approval.status,
    approvalId: approval.id,
    reasons: approval.reasons,
    decisions: approval.decisions,
  });
}

/**
 * The upstream tool as listed, its output schema widened to admit the gateway's refusal: clients
 * validate structured content against it even on an `isError` result. Definitions stay at the
 * root so that `$ref`s into them still resolve.
 */
function admitRefusals(tool: Tool): Tool {
  if (!tool.outputSchema) return tool;
  const { $defs, definitions, $schema, ...schema } = tool.outputSchema as Record<string, unknown>;
  return {
    ...tool,
    outputSchema: {
      type: 'object',
      ...($schema !== undefined && { $schema }),
      ...($defs !== undefined && { $defs }),
      ...(definitions !== undefined && { definitions }),
      anyOf: [schema, GATE_REFUSAL_SCHEMA],
    } as Tool['outputSchema'],
  };
}
