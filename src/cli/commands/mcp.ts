import { basename } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CountersignClient } from '../../client/index.js';
import { createGateMcpServer, MCP_SERVER_VERSION } from '../../transports/mcp/gate-server.js';
import { gatewayName, McpGateway } from '../../transports/mcp/gateway.js';
import { CliUsageError, connect, integerOption, note, parseCommand, type ClientCommand } from './shared.js';

const MCP_USAGE = 'countersign mcp [--url URL] [--token JWT]';
const GATEWAY_USAGE =
  'countersign mcp-gateway [--name NAME] [--wait SECONDS] [--url URL] [--token JWT] (-- <upstream command and arguments> | --upstream-url URL)';

/** Runs until standard input closes or a signal arrives; closing runs `cleanup` first. */
function untilClosed(transport: Transport, cleanup: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let closing = false;
    const close = (code: number) => {
      if (closing) return;
      closing = true;
      cleanup().then(
        () => resolve(code),
        () => resolve(code),
      );
    };
    transport.onclose = () => close(0);
    process.stdin.once('end', () => close(0));
    process.once('SIGINT', () => close(0));
    process.once('SIGTERM', () => close(0));
  });
}

/** `countersign mcp`: the gate's MCP tools over stdio, as the caller of COUNTERSIGN_TOKEN. */
export const mcp: ClientCommand = {
  usage: MCP_USAGE,
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, {}, MCP_USAGE);
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument "${positionals[0]}"`, MCP_USAGE);
    const client = connect(values, env, MCP_USAGE);
    const server = createGateMcpServer(client);
    const transport = new StdioServerTransport();
    await server.connect(transport);
    return untilClosed(transport, async () => {
      await server.close();
      await client.close();
    });
  },
};

/** The inbox link of an approval: COUNTERSIGN_INBOX_URL with `{id}`, or the server's page. */
function approvalLinks(client: CountersignClient, env: NodeJS.ProcessEnv): (approvalId: string) => string {
  const template = env['COUNTERSIGN_INBOX_URL'];
  if (template) return (id) => template.replaceAll('{id}', encodeURIComponent(id));
  const base = new URL('/', client.graphqlUrl);
  return (id) => {
    const link = new URL(base);
    link.searchParams.set('approval', id);
    return link.toString();
  };
}

/**
 * The upstream's environment: ours, without Countersign's own settings, so the caller token
 * never reaches the server being gated.
 */
function upstreamEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !key.startsWith('COUNTERSIGN_')) environment[key] = value;
  }
  return environment;
}

/** `countersign mcp-gateway`: an MCP server over stdio that gates the tools of an upstream MCP server. */
export const mcpGateway: ClientCommand = {
  usage: GATEWAY_USAGE,
  async run(argv, env) {
    const separator = argv.indexOf('--');
    const own = separator === -1 ? argv : argv.slice(0, separator);
    const command = separator === -1 ? [] : argv.slice(separator + 1);
    const { values, positionals } = parseCommand(
      own,
      { name: { type: 'string' }, wait: { type: 'string' }, 'upstream-url': { type: 'string' } },
      GATEWAY_USAGE,
    );
    if (positionals.length > 0) throw new CliUsageError(`unexpected argument "${positionals[0]}" (put the upstream command after --)`, GATEWAY_USAGE);
    const upstreamUrl = values['upstream-url'];
    if ((command.length > 0) === (upstreamUrl !== undefined)) {
      throw new CliUsageError('name the upstream server: a command after --, or --upstream-url, not both', GATEWAY_USAGE);
    }
    const waitSeconds = integerOption(values.wait, 'wait', 60, 0, 3_600, GATEWAY_USAGE);
    const countersign = connect(values, env, GATEWAY_USAGE);

    let upstreamTransport: Transport;
    if (upstreamUrl !== undefined) {
      let url: URL;
      try {
        url = new URL(upstreamUrl);
      } catch {
        throw new CliUsageError(`--upstream-url must be a URL, got "${upstreamUrl}"`, GATEWAY_USAGE);
      }
      upstreamTransport = new StreamableHTTPClientTransport(url);
    } else {
      const [executable, ...args] = command as [string, ...string[]];
      upstreamTransport = new StdioClientTransport({ command: executable, args, env: upstreamEnvironment(env), stderr: 'inherit' });
    }
    const upstream = new Client({ name: 'countersign-gateway', version: MCP_SERVER_VERSION });
    await upstream.connect(upstreamTransport);

    const defaultName = upstreamUrl !== undefined ? new URL(upstreamUrl).hostname : basename(command[0] ?? 'upstream');
    const name = gatewayName(values.name ?? upstream.getServerVersion()?.name ?? defaultName);
    if (values.name !== undefined && name !== values.name) {
      throw new CliUsageError('--name may hold letters, digits, _ and - only', GATEWAY_USAGE);
    }
    const gateway = new McpGateway({
      countersign,
      upstream,
      name,
      waitSeconds,
      approvalUrl: approvalLinks(countersign, env),
      log: (message) => note(`countersign mcp-gateway: ${message}`),
    });
    const transport = new StdioServerTransport();
    await gateway.server.connect(transport);
    note(`countersign mcp-gateway: gating ${upstream.getServerVersion()?.name ?? defaultName} as mcp.${name}.<tool>`);
    upstream.onclose = () => {
      note('countersign mcp-gateway: the upstream server closed');
      void transport.close();
    };
    return untilClosed(transport, async () => {
      await gateway.server.close();
      await upstream.close();
      await countersign.close();
    });
  },
};
