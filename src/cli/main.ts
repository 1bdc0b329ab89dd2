#!/usr/bin/env node
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, developmentKeyEncryptionKeyFile, keyEncryptionKeyFrom, loadConfig } from '../config.js';
import type { PolicyEvaluator } from '../policy/index.js';
import { runClientCommand, runMcpCommand } from './client-commands.js';

const USAGE = `countersign <command>

Server and operator commands:
  serve                         start the server (PORT, COUNTERSIGN_DB, ... see README)
  token mint --sub S --tenant T --roles r1,r2 [--expires 12h]
                                mint a development caller token (HS256, COUNTERSIGN_AUTH_SECRET)
  keys rotate                   add a decision-token signing key; old keys stay published
  keys rewrap --new-key-file F  seal every secret at rest again under the key-encryption key in F
                                (rotation of COUNTERSIGN_KEY_ENCRYPTION_KEY; restart servers with F)
  policy eval FILE [--data F]   evaluate an input document against the current bundle

Agent commands (MCP over stdio; COUNTERSIGN_URL, COUNTERSIGN_TOKEN or --url, --token):
  mcp                           the gate's tools (request_approval, wait_for_decision, ...) as an MCP server
  mcp-gateway [--name N] [--wait S] -- CMD ARGS | --upstream-url URL
                                front an MCP server: every tool call becomes an approval request

Approver and auditor commands (COUNTERSIGN_URL, COUNTERSIGN_TOKEN or --url, --token):
  approvals list [--status S] [--json]    show ID [--json]
  approve ID... [--reason R]    reject ID... [--reason R]
  watch [--json]                history [--limit N] [--json]
  audit verify [--checkpoint F] [--json]  audit checkpoint [--out F]
  audit export [--since D] [--until D]
  notifications list|create|update|delete|rotate-secret|deliveries|replay   (admins)

Exit codes: 0 ok, 1 the server refused (typed error), 2 usage, 3 connection or server failure.`;

export class UsageError extends Error {}

// Server modules (ORM, policy engine, yoga) load only for the commands that need them, so the
// approver commands start quickly.

async function serve(): Promise<void> {
  // The configuration first: a missing setting is reported before the server modules load.
  const config = loadConfig();
  const { buildApp } = await import('../transports/http/app.js');
  const app = await buildApp(config);
  let url: string;
  try {
    url = await app.start();
  } catch (error) {
    // The database, policy watcher and timers are open: close them, or the process would hang.
    await app.stop().catch(() => {});
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${config.port} on ${config.host} is already in use; stop the other server or set PORT`);
    if (code === 'EACCES') throw new Error(`port ${config.port} on ${config.host} may not be opened by this user; set PORT`);
    throw error;
  }
  console.log(`countersign: listening on ${url}/graphql (policy ${app.evaluator.revision})`);
  const shutdown = () => {
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

async function mint(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { sub: { type: 'string' }, tenant: { type: 'string' }, roles: { type: 'string' }, expires: { type: 'string' } },
  });
  if (!values.sub || !values.tenant || !values.roles) throw new UsageError('token mint needs --sub, --tenant and --roles');
  const { mintCallerToken } = await import('../transports/http/auth.js');
  const config = loadConfig();
  if (!config.authSecret) throw new UsageError('token mint needs COUNTERSIGN_AUTH_SECRET (callers are verified by a JWKS here)');
  const token = await mintCallerToken(config.authSecret, {
    subject: values.sub,
    tenant: values.tenant,
    roles: values.roles.split(',').map((role) => role.trim()).filter(Boolean),
    ...(values.expires && { expiresIn: values.expires }),
    ...(config.authIssuer && { issuer: config.authIssuer }),
    ...(config.authAudience && { audience: config.authAudience }),
  });
  console.log(token);
}

async function rotateKeys(): Promise<void> {
  const { createServices } = await import('../services.js');
  const services = await createServices(loadConfig(), { log: (message) => console.error(message) });
  try {
    const kid = await services.gate.rotateSigningKey();
    console.log(`countersign: new signing key ${kid}; ${services.gate.keys.jwks().keys.length} key(s) published`);
  } finally {
    await services.close();
  }
}

/**
 * Rotates the key-encryption key: every sealed secret is opened with the current key (from the
 * environment, as the server reads it) and sealed again under the key in `--new-key-file`. In
 * development, where the current key is the generated one beside the database, that file is
 * replaced by the new key, so the server starts with it unchanged.
 */
async function rewrapKeys(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'new-key-file': { type: 'string' } } });
  const file = values['new-key-file'];
  if (!file) throw new UsageError('keys rewrap needs --new-key-file FILE (32 random bytes, base64: openssl rand -base64 32 > FILE)');
  const config = loadConfig();
  const newKey = keyEncryptionKeyFrom({ COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE: file });
  if (!newKey) throw new UsageError('keys rewrap needs --new-key-file FILE');
  if (Buffer.from(newKey).equals(Buffer.from(config.keyEncryptionKey))) {
    throw new UsageError('the new key-encryption key is the current one');
  }
  const { openDatabase, databaseOptions, scrubFreedPages } = await import('../db/orm.js');
  const { rewrapSecrets } = await import('../db/rewrap.js');
  const orm = await openDatabase(databaseOptions(config));
  try {
    const result = await rewrapSecrets(orm, config.keyEncryptionKey, newKey);
    // Values sealed under the old key must not linger in freed pages for whoever holds that key.
    await scrubFreedPages(orm);
    const generated = keyEncryptionKeyFrom(process.env) === null;
    if (generated) await writeFile(developmentKeyEncryptionKeyFile(config.databasePath), Buffer.from(newKey).toString('base64') + '\n', { mode: 0o600 });
    console.log(
      `countersign: sealed ${result.signingKeys} signing key(s) and ${result.channelSecrets} channel secret(s) under the new key-encryption key; ` +
        (generated
          ? 'the development key beside the database is replaced.'
          : `restart every server with COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE=${file} (or the key in COUNTERSIGN_KEY_ENCRYPTION_KEY).`),
    );
  } finally {
    await orm.close(true);
  }
}

async function evaluatePolicy(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { data: { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new UsageError('policy eval needs an input file');
  const { PolicyEvaluator } = await import('../policy/index.js');
  const config = loadConfig();
  const evaluator = await PolicyEvaluator.load({
    bundleDir: config.bundleDir,
    ...(config.policySourcesDir && { sourcesDir: config.policySourcesDir }),
    onEvent: (event) => console.error(`policy: ${JSON.stringify(event)}`),
  });
  const input = JSON.parse(await readFile(file, 'utf8')) as Parameters<PolicyEvaluator['evaluate']>[0];
  if (values.data) evaluator.setTenantSettings(JSON.parse(await readFile(values.data, 'utf8')));
  console.log(JSON.stringify(evaluator.evaluate(input), null, 2));
}

export async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  try {
    if (command === 'serve') await serve();
    else if (command === 'token' && sub === 'mint') await mint(rest);
    else if (command === 'keys' && sub === 'rotate') await rotateKeys();
    else if (command === 'keys' && sub === 'rewrap') await rewrapKeys(rest);
    else if (command === 'policy' && sub === 'eval') await evaluatePolicy(rest);
    else if (command === 'mcp' || command === 'mcp-gateway') return await runMcpCommand(command, argv.slice(1));
    else if (command === undefined || command === 'help' || command === '--help') {
      console.log(USAGE);
    } else return await runClientCommand(argv);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`countersign: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(`countersign: configuration error: ${error.message}`);
      return 2;
    }
    console.error(`countersign: ${(error as Error).message}`);
    return 3;
  }
}

process.exitCode = await main(process.argv.slice(2));
