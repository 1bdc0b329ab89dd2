import { CountersignClientError, TransportError } from '../client/index.js';
import { approve, history, list, reject, show } from './commands/approvals.js';
import { checkpoint, exportEvents, verify } from './commands/audit.js';
import { CliUsageError, DEFAULT_URL, note, print, type ClientCommand } from './commands/shared.js';
import { watch } from './commands/watch.js';
import { NOTIFICATION_COMMANDS, NOTIFICATIONS_HELP } from './commands/notifications.js';

/** The help of the approver and auditor commands (`countersign <command> --help`). */
export const CLIENT_HELP = `Approver and auditor commands: they talk to a running server through the agent SDK.

  countersign approvals list [--status S|all] [--action A] [--agent A] [--limit N] [--json]
      Requests of your tenant, newest first; pending ones by default.
  countersign show ID [--json]
      Everything about one request: context, risk, reasons, decisions.
  countersign approve ID [ID...] [--reason TEXT] [--json]
  countersign reject ID [ID...] [--reason TEXT] [--json]
      Record your decision; the reason is kept in the audit log. With several ids each is
      decided on its own (exit code 1 when any was refused; the others are still recorded).
  countersign watch [--json]
      The requests you may decide, live: those pending now, then each one that becomes
      pending, gathers a vote or leaves pending. --json prints one JSON event per line.
      Runs until Ctrl-C.
  countersign history [--limit N] [--action A] [--json]
      Recently decided requests (every status but PENDING), newest request first, with who
      decided them (approvers, or the policy for requests it allowed or denied outright).
  countersign audit verify [--checkpoint FILE] [--json]
      Walk the tenant's tamper-evident audit chain and cross-check approvals' status with it
      (auditors and admins); with a checkpoint kept elsewhere, also detect truncation and re-hashing.
  countersign audit checkpoint [--out FILE]
      A signed checkpoint of the tenant's chain (C2SP signed note), to keep elsewhere.
  countersign audit export [--since DATE] [--until DATE] [--type T] [--approval ID] [--actor A]
      The audit events as JSON lines, oldest first; --since is inclusive, --until exclusive
      (ISO 8601 dates or date-times).
${NOTIFICATIONS_HELP}

  "approvals show|approve|reject|watch|history" work too.

Connection (flags win over the environment):
  --url URL      COUNTERSIGN_URL    the server (default ${DEFAULT_URL})
  --token JWT    COUNTERSIGN_TOKEN  your caller token (see countersign token mint)

Exit codes: 0 ok; 1 the server refused (typed error such as FORBIDDEN or ALREADY_DECIDED,
or audit verify found a broken chain); 2 usage; 3 connection or server failure.`;

const COMMANDS: Record<string, ClientCommand> = {
  'approvals list': list,
  'approvals show': show,
  'approvals approve': approve,
  'approvals reject': reject,
  'approvals watch': watch,
  'approvals history': history,
  list,
  show,
  approve,
  reject,
  watch,
  history,
  'audit verify': verify,
  'audit checkpoint': checkpoint,
  'audit export': exportEvents,
  ...NOTIFICATION_COMMANDS,
};

/** Finds the command `argv` names; returns it with the arguments that follow its name. */
function resolve(argv: string[]): { command: ClientCommand; rest: string[] } | null {
  const [first, second] = argv;
  if (first === 'approvals' || first === 'audit' || first === 'notifications') {
    const command = second === undefined ? undefined : COMMANDS[`${first} ${second}`];
    return command ? { command, rest: argv.slice(2) } : null;
  }
  const command = first === undefined ? undefined : COMMANDS[first];
  return command ? { command, rest: argv.slice(1) } : null;
}

/** The approver and auditor commands; they talk to a running server over GraphQL. */
export async function runClientCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Output piped into `head` and the like: stop quietly once the reader has gone.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const resolved = resolve(argv);
  if (argv.includes('--help') || argv.includes('-h')) {
    print(resolved ? `usage: ${resolved.command.usage}\n\n${CLIENT_HELP}` : CLIENT_HELP);
    return 0;
  }
  if (!resolved) {
    note(`countersign: unknown command "${argv.join(' ')}"\n\n${CLIENT_HELP}`);
    return 2;
  }
  try {
    return await resolved.command.run(resolved.rest, env);
  } catch (error) {
    return report(error);
  }
}

/**
 * `countersign mcp` and `countersign mcp-gateway`: MCP servers on standard input and output, so
 * nothing but protocol messages may go to stdout; diagnostics go to stderr.
 */
export async function runMcpCommand(name: 'mcp' | 'mcp-gateway', argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // The MCP SDK loads only for these commands, so the approver commands start as quickly as before.
  const { mcp, mcpGateway } = await import('./commands/mcp.js');
  const command = name === 'mcp' ? mcp : mcpGateway;
  if (argv.includes('--help') && (argv.indexOf('--') === -1 || argv.indexOf('--help') < argv.indexOf('--'))) {
    note(`usage: ${command.usage}`);
    return 0;
  }
  try {
    return await command.run(argv, env);
  } catch (error) {
    return report(error);
  }
}

/** Explains a failure on standard error and chooses the exit code. */
function report(error: unknown): number {
  if (error instanceof CliUsageError) {
    note(`countersign: ${error.message}${error.usage ? `\nusage: ${error.usage}` : ''}`);
    return 2;
  }
  if (error instanceof TransportError) {
    note(`countersign: ${error.message}`);
    return 3;
  }
  if (error instanceof CountersignClientError) {
    note(`countersign: ${error.code}: ${error.message}`);
    return 1;
  }
  note(`countersign: ${error instanceof Error ? error.message : String(error)}`);
  return 3;
}
