import { readFile, writeFile } from 'node:fs/promises';
import { dateOption, connect, noPositionals, note, parseCommand, print, printJson, CliUsageError, type ClientCommand } from './shared.js';

export const verify: ClientCommand = {
  usage: 'countersign audit verify [--checkpoint FILE] [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, { checkpoint: { type: 'string' } }, this.usage);
    noPositionals(positionals, this.usage);
    let checkpoint: string | null = null;
    if (values.checkpoint !== undefined) {
      try {
        checkpoint = await readFile(values.checkpoint, 'utf8');
      } catch (error) {
        throw new CliUsageError(`cannot read the checkpoint: ${(error as Error).message}`, this.usage);
      }
    }
    const result = await connect(values, env, this.usage).verifyAuditChain({ checkpoint });
    if (values.json) printJson(result);
    else {
      if (result.chainOk) print(`Audit chain links intact: ${result.checked} event(s) verified.`);
      else {
        const { brokenAt } = result;
        print(`Audit chain BROKEN at seq ${brokenAt?.seq} (event ${brokenAt?.id}): ${brokenAt?.reason}.`);
        print(`${result.checked} event(s) verified before the break.`);
      }
      const against = result.checkpoint;
      if (against?.problem === 'truncated') {
        print(`TRUNCATED: the checkpoint of ${against.time} saw ${against.size} event(s); the chain now has ${against.chainSize}.`);
      } else if (against?.problem === 'rehashed') {
        print(`REHASHED: event ${against.size} hashed ${against.headHash} at the checkpoint of ${against.time}; it now hashes ${against.hashAtSize}.`);
      } else if (against) {
        print(`Consistent with the checkpoint of ${against.time} (${against.size} event(s); the chain now has ${against.chainSize}).`);
      }
      for (const mismatch of result.stateMismatches) {
        print(`STATE DIFFERS: approval ${mismatch.approvalId} is ${mismatch.status ?? '(missing)'} but its trail ends in ${mismatch.trailStatus ?? '(no trail)'}.`);
      }
      if (result.stateMismatchCount > result.stateMismatches.length) {
        print(`... and ${result.stateMismatchCount - result.stateMismatches.length} more approval(s) whose state differs from the trail.`);
      }
      print(result.ok ? 'Audit verified.' : 'Audit NOT verified.');
    }
    // A broken, truncated or re-hashed chain is the server's verdict, like a typed refusal: exit 1.
    return result.ok ? 0 : 1;
  },
};

export const checkpoint: ClientCommand = {
  usage: 'countersign audit checkpoint [--out FILE] [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, { out: { type: 'string' } }, this.usage);
    noPositionals(positionals, this.usage);
    const taken = await connect(values, env, this.usage).auditCheckpoint();
    if (values.out !== undefined) {
      await writeFile(values.out, taken.note, { mode: 0o644 });
      note(`Checkpoint of ${taken.tenant}: ${taken.size} event(s), head ${taken.headHash}, signed by ${taken.kid}; written to ${values.out}.`);
    } else if (values.json) printJson(taken);
    else process.stdout.write(taken.note);
    return 0;
  },
};

export const exportEvents: ClientCommand = {
  usage: 'countersign audit export [--since DATE] [--until DATE] [--type T] [--approval ID] [--actor A]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(
      argv,
      {
        since: { type: 'string' },
        until: { type: 'string' },
        type: { type: 'string' },
        approval: { type: 'string' },
        actor: { type: 'string' },
      },
      this.usage,
    );
    noPositionals(positionals, this.usage);
    const since = dateOption(values.since, 'since', this.usage);
    const until = dateOption(values.until, 'until', this.usage);
    if (since && until && since >= until) throw new CliUsageError('--since must be before --until', this.usage);
    const client = connect(values, env, this.usage);
    let exported = 0;
    // JSON lines whatever --json says: one event per line, oldest first, paged with cursors.
    for await (const event of client.allAuditEvents({
      since: since ?? null,
      until: until ?? null,
      type: values.type ?? null,
      approvalId: values.approval ?? null,
      actor: values.actor ?? null,
    })) {
      print(JSON.stringify(event));
      exported += 1;
    }
    note(`Exported ${exported} audit event(s).`);
    return 0;
  },
};
