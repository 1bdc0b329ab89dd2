import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CountersignClient } from '../../client/index.js';

/** The server the CLI talks to when neither --url nor COUNTERSIGN_URL says otherwise. */
export const DEFAULT_URL = 'http://127.0.0.1:4000';

/** A mistake in how the command was called (exit code 2). */
export class CliUsageError extends Error {
  constructor(
    message: string,
    /** The usage line of the command concerned, shown below the message. */
    readonly usage?: string,
  ) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** One client command: its usage line and what it does with its arguments. */
export interface ClientCommand {
  usage: string;
  run(argv: string[], env: NodeJS.ProcessEnv): Promise<number>;
}

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Options every client command accepts. */
const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies OptionSpec;

type CommandConfig<O extends OptionSpec> = { args: string[]; options: typeof GLOBAL_OPTIONS & O; allowPositionals: true; strict: true };

/** What {@link parseCommand} returns: typed option values and the positionals. */
export type ParsedCommand<O extends OptionSpec> = ReturnType<typeof parseArgs<CommandConfig<O>>>;

/** Parses a command's arguments strictly; unknown options and missing values are usage errors. */
export function parseCommand<O extends OptionSpec>(argv: string[], options: O, usage: string): ParsedCommand<O> {
  try {
    return parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliUsageError((error as Error).message, usage);
  }
}

/** The one positional argument a command needs, e.g. an approval id. */
export function onePositional(positionals: string[], what: string, usage: string): string {
  if (positionals.length !== 1 || !positionals[0]) throw new CliUsageError(`expected exactly one ${what}`, usage);
  return positionals[0];
}

export function noPositionals(positionals: string[], usage: string): void {
  if (positionals.length > 0) throw new CliUsageError(`unexpected argument "${positionals[0]}"`, usage);
}

/** A whole number option within bounds. */
export function integerOption(value: string | undefined, name: string, fallback: number, min: number, max: number, usage: string): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new CliUsageError(`--${name} must be a whole number from ${min} to ${max}`, usage);
  }
  return number;
}

/** An instant option: an ISO 8601 date or date-time (a bare date is midnight UTC). */
export function dateOption(value: string | undefined, name: string, usage: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new CliUsageError(`--${name} must be an ISO 8601 date or date-time, got "${value}"`, usage);
  }
  return date;
}

/** The SDK client for the server and caller named by --url/--token or the environment. */
export function connect(values: { url?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv, usage: string): CountersignClient {
  const url = values.url ?? (env['COUNTERSIGN_URL'] || DEFAULT_URL);
  const token = values.token ?? env['COUNTERSIGN_TOKEN'];
  if (!token) throw new CliUsageError('no caller token: pass --token or set COUNTERSIGN_TOKEN', usage);
  try {
    // Against a server that runs persisted operations only, send each one's hash, not its text.
    const persistedOperations = ['1', 'true', 'yes'].includes(env['COUNTERSIGN_PERSISTED_ONLY'] ?? '');
    return new CountersignClient({ url, token, persistedOperations });
  } catch {
    throw new CliUsageError(`the server URL must be an http(s) URL, got "${url}"`, usage);
  }
}

/**
 * A command that acts on one thing named by its id (`countersign show ID`, ...): it prints what
 * `act` returns as JSON with --json, otherwise the lines `describe` makes of it.
 */
export function commandOnId<Result>(
  usage: string,
  what: string,
  act: (client: CountersignClient, id: string) => Promise<Result>,
  describe: (result: Result, id: string) => string[],
): ClientCommand {
  return {
    usage,
    async run(argv, env) {
      const { values, positionals } = parseCommand(argv, {}, usage);
      const id = onePositional(positionals, what, usage);
      const result = await act(connect(values, env, usage), id);
      if (values.json) printJson(result);
      else for (const line of describe(result, id)) print(line);
      return 0;
    },
  };
}

/** Writes one line to standard output. */
export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Writes one line to standard error (status messages that must not mix with data). */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Prints a value as indented JSON. */
export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}
