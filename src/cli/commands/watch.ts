import { TransportError } from '../../client/index.js';
import { eventLine } from './format.js';
import { connect, noPositionals, note, parseCommand, print, type ClientCommand } from './shared.js';

export const watch: ClientCommand = {
  usage: 'countersign watch [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, {}, this.usage);
    noPositionals(positionals, this.usage);
    const client = connect(values, env, this.usage);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // The requests already pending come first, read once the subscription listens: none is missed.
    const events = client.pendingApprovals({ current: true, signal: stop.signal });
    note(`Watching pending approvals at ${client.graphqlUrl} (Ctrl-C to stop)`);
    try {
      for await (const event of events) {
        print(values.json ? JSON.stringify(event) : eventLine(event));
      }
      if (!stop.signal.aborted) throw new TransportError('The server ended the subscription.');
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await client.close();
    }
  },
};
