#!/usr/bin/env node
// A tiny real MCP server (stdio, official SDK) whose tools have an effect a test can see: they
// write to the file named by LEDGER_FILE. Used to prove that a gated call never reached it.
import { appendFileSync, writeFileSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const ledger = process.env.LEDGER_FILE;
if (!ledger) throw new Error('LEDGER_FILE is required');

const tools = [
  {
    name: 'append_entry',
    description: 'Appends one line to the ledger.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  },
  {
    name: 'clear_ledger',
    description: 'Deletes every line of the ledger.',
    inputSchema: { type: 'object', properties: {} },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  },
  {
    name: 'refuse_entry',
    description: 'Records an attempt, then reports failure as a tool error.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
];

const server = new Server({ name: 'ledger', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, (request) => {
  const args = request.params.arguments ?? {};
  switch (request.params.name) {
    case 'append_entry':
      appendFileSync(ledger, `${String(args.text)}\n`);
      return { content: [{ type: 'text', text: `appended ${String(args.text)}` }] };
    case 'clear_ledger':
      writeFileSync(ledger, '');
      return { content: [{ type: 'text', text: 'cleared' }] };
    case 'refuse_entry':
      appendFileSync(ledger, `attempt ${String(args.text)}\n`);
      return { content: [{ type: 'text', text: 'the ledger refused the entry' }], isError: true };
    default:
      return { content: [{ type: 'text', text: `unknown tool ${request.params.name}` }], isError: true };
  }
});
await server.connect(new StdioServerTransport());
