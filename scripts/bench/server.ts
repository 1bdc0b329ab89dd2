import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { mintCallerToken } from '../../src/transports/http/auth.js';
import type { NotifyConfig } from '../../src/notify/config.js';
import type { ServeOptions, ServeReply, ServeRequest } from './serve.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const BENCH_AUTH_SECRET = 'countersign-bench-secret-0123456789abcdef';

/** A Countersign server in a child process: its CPU is not shared with the load generator's event loop. */
export interface ServerProcess {
  url: string;
  pid: number;
  /** An `Authorization` header value for a caller of this server. */
  authorization(subject: string, tenant: string, roles: string[]): Promise<string>;
  /** The server's process.memoryUsage(), after a full garbage collection. */
  memory(): Promise<NodeJS.MemoryUsage>;
  /** The server's process.cpuUsage(): CPU time it spent, which the machine's noise inflates far less than latency. */
  cpu(): Promise<NodeJS.CpuUsage>;
  /** Starts the V8 sampling profiler in the server. */
  startProfile(): Promise<void>;
  /** Stops it and writes the profile (.cpuprofile, for Chrome DevTools or profile.ts --top). */
  stopProfile(file: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  databasePath: string;
  driver: 'better-sqlite' | 'sqlite' | 'postgresql';
  /** With the postgresql driver: `postgres://…`. */
  databaseUrl?: string;
  /** Shares the change feed through this Redis (`redis://…`), under `redisPrefix`. */
  redisUrl?: string;
  redisPrefix?: string;
  /** Base64 key-encryption key; instances sharing a database must share it. */
  keyEncryptionKey?: string;
  notify?: Partial<NotifyConfig>;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const serveOptions: ServeOptions = {
    databasePath: options.databasePath,
    databaseDriver: options.driver,
    authSecret: BENCH_AUTH_SECRET,
    bundleDir: join(REPO_ROOT, 'bundle'),
    policySourcesDir: join(REPO_ROOT, 'policies'),
    ...(options.notify && { notify: options.notify }),
    ...(options.databaseUrl && { databaseUrl: options.databaseUrl }),
    ...(options.redisUrl && { redisUrl: options.redisUrl, redisPrefix: options.redisPrefix ?? 'countersign-bench:' }),
    ...(options.keyEncryptionKey && { keyEncryptionKey: options.keyEncryptionKey }),
  };
  // BENCH_SERVER_NODE_ARGS: flags for the server's node only, to investigate (e.g. --trace-gc).
  const execArgv = ['--import', 'tsx', '--expose-gc', ...(process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter(Boolean)];
  const child: ChildProcess = fork(join(import.meta.dirname, 'serve.ts'), [], {
    cwd: REPO_ROOT,
    execArgv,
    env: { ...process.env, NODE_ENV: 'production', BENCH_SERVER: JSON.stringify(serveOptions) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const onMessage = (reply: ServeReply): void => {
      if (reply.type === 'ready') {
        child.off('message', onMessage);
        resolve(reply.url);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`the benchmark server exited with ${code} before listening`)));
  });
  // A parent that dies without stopping its server must not leave it running.
  const killOnExit = (): void => void child.kill();
  process.once('exit', killOnExit);

  let nextId = 0;
  const ask = <T extends ServeReply['type']>(request: ServeRequest, replyType: T): Promise<Extract<ServeReply, { type: T }>> =>
    new Promise((resolve) => {
      const onMessage = (reply: ServeReply): void => {
        if (reply.type === replyType && 'id' in reply && reply.id === request.id) {
          child.off('message', onMessage);
          resolve(reply as Extract<ServeReply, { type: T }>);
        }
      };
      child.on('message', onMessage);
      child.send(request);
    });

  return {
    url,
    pid: child.pid as number,
    authorization: async (subject, tenant, roles) =>
      `Bearer ${await mintCallerToken(BENCH_AUTH_SECRET, { subject, tenant, roles, expiresIn: '2h' })}`,
    memory: async () => (await ask({ type: 'memory', id: nextId++ }, 'memory')).usage,
    cpu: async () => (await ask({ type: 'cpu', id: nextId++ }, 'cpu')).usage,
    startProfile: async () => void (await ask({ type: 'profile-start', id: nextId++ }, 'profile-start')),
    async stopProfile(file) {
      mkdirSync(dirname(file), { recursive: true });
      await ask({ type: 'profile-stop', id: nextId++, file }, 'profile-stop');
    },
    async stop() {
      if (child.exitCode === null) {
        child.send({ type: 'stop', id: nextId++ } satisfies ServeRequest);
        const timer = setTimeout(() => child.kill(), 30_000);
        await exited;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
    },
  };
}
