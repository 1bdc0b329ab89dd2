/**
 * The server under test, run in its own process by server.ts: the same buildApp() the CLI starts,
 * on 127.0.0.1 port 0 with NODE_ENV=production, configured by BENCH_SERVER (JSON). It reports its
 * URL over IPC and answers requests for its memory and CPU time, to profile and to stop; when the
 * parent goes away it exits.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { DEFAULT_RATE_LIMITS } from '../../src/app/rate-limits.js';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/transports/http/app.js';
import { loadNotifyConfig, type NotifyConfig } from '../../src/notify/config.js';

export interface ServeOptions {
  databasePath: string;
  databaseDriver: 'better-sqlite' | 'sqlite' | 'postgresql';
  databaseUrl?: string;
  redisUrl?: string;
  redisPrefix?: string;
  /** Base64. */
  keyEncryptionKey?: string;
  authSecret: string;
  bundleDir: string;
  policySourcesDir: string;
  /** Notification settings over the defaults (the notification benchmark allows its local receiver). */
  notify?: Partial<NotifyConfig>;
}

export type ServeRequest =
  | { type: 'memory'; id: number }
  | { type: 'cpu'; id: number }
  | { type: 'profile-start'; id: number }
  | { type: 'profile-stop'; id: number; file: string }
  | { type: 'stop'; id: number };

export type ServeReply =
  | { type: 'ready'; url: string }
  | { type: 'memory'; id: number; usage: NodeJS.MemoryUsage }
  | { type: 'cpu'; id: number; usage: NodeJS.CpuUsage }
  | { type: 'profile-start'; id: number }
  | { type: 'profile-stop'; id: number };

const options = JSON.parse(process.env['BENCH_SERVER'] ?? '{}') as ServeOptions;
const send = (reply: ServeReply): void => void process.send?.(reply);

const config = loadConfig(
  // Throughput is measured, not a caller's quota: per-caller rate limits are off.
  { COUNTERSIGN_RATE_LIMIT: 'off' },
  {
    port: 0,
    host: '127.0.0.1',
    databasePath: options.databasePath,
    databaseDriver: options.databaseDriver,
    databaseUrl: options.databaseUrl ?? null,
    redisUrl: options.redisUrl ?? null,
    ...(options.redisPrefix && { redisPrefix: options.redisPrefix }),
    ...(options.keyEncryptionKey && { keyEncryptionKey: new Uint8Array(Buffer.from(options.keyEncryptionKey, 'base64')) }),
    authSecret: options.authSecret,
    bundleDir: options.bundleDir,
    policySourcesDir: options.policySourcesDir,
    watchBundle: false,
    graphiql: false,
    // The sweep would add writes the benchmark did not ask for.
    expirySweepMs: 3_600_000,
    notify: { ...loadNotifyConfig({}), ...options.notify },
    // A benchmark is one caller hammering the server on purpose (COUNTERSIGN_RATE_LIMIT=off).
    rateLimits: { ...DEFAULT_RATE_LIMITS, enabled: false },
  },
);
const app = await buildApp(config, { log: (message) => process.stderr.write(`${message.replace(/^/gm, 'server: ')}\n`) });
const url = await app.start();

// Profiles only the window the parent asks for, not start-up and module loading; the inspector
// session is opened on the first request to profile, so that unprofiled runs carry none of it.
let inspector: Session | undefined;

process.on('message', (message: ServeRequest) => {
  if (message.type === 'cpu') {
    send({ type: 'cpu', id: message.id, usage: process.cpuUsage() });
  } else if (message.type === 'profile-start') {
    if (!inspector) {
      inspector = new Session();
      inspector.connect();
    }
    const session = inspector;
    void session
      .post('Profiler.enable')
      .then(() => session.post('Profiler.setSamplingInterval', { interval: 200 }))
      .then(() => session.post('Profiler.start'))
      .then(() => send({ type: 'profile-start', id: message.id }));
  } else if (message.type === 'profile-stop' && inspector) {
    void inspector.post('Profiler.stop').then(({ profile }) => {
      writeFileSync(message.file, JSON.stringify(profile));
      send({ type: 'profile-stop', id: message.id });
    });
  } else if (message.type === 'memory') {
    // Measure what is live, not what the collector has yet to reclaim (the parent passes --expose-gc).
    (globalThis as { gc?: () => void }).gc?.();
    send({ type: 'memory', id: message.id, usage: process.memoryUsage() });
  } else if (message.type === 'stop') {
    void app.stop().finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', url });
