import { dateOption, connect, noPositionals, note, parseCommand, print, printJson, CliUsageError, type ClientCommand } from './shared.js';

export const verify: ClientCommand = {
  usage: 'countersign audit verify [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, {}, this.usage);
    noPositionals(positionals, this.usage);
    const result = await connect(values, env, this.usage).verifyAuditChain();
    if (values.json) printJson(result);
    else if (result.ok) print(`Audit chain intact: ${result.checked} event(s) verified.`);
    else {
      const { brokenAt } = result;
      print(`Audit chain BROKEN at seq ${brokenAt?.seq} (event ${brokenAt?.id}): ${brokenAt?.reason}.`);
      print(`${result.checked} event(s) verified before the break.`);
    }
    // A broken chain is the server's verdict, like a typed refusal: exit 1.
    return result.ok ? 0 : 1;
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
