import { parse, type ExecutionResult } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/app/caller.js';
import { useSharedSubscriptionExecution } from '../../src/transports/graphql/shared-execution.js';

interface Ticket {
  id: string;
  /** Present only on the event a stream makes for one subscriber (as the requester's token). */
  secret?: string;
}

/**
 * A schema whose subscription yields the events published to every listener, and whose field
 * resolvers count how often they run: the count is the number of executions of the selection.
 */
function harness() {
  let executions = 0;
  const listeners = new Set<(ticket: Ticket) => void>();
  const schema = createSchema<{ caller: Caller }>({
    typeDefs: /* GraphQL */ `
      type Ticket { id: ID!, label(prefix: String): String!, secret: String }
      type Query { ok: Boolean }
      type Subscription { tickets(privateFor: String): Ticket! }
    `,
    resolvers: {
      Ticket: {
        label: (ticket: Ticket, { prefix }: { prefix?: string }) => {
          executions++;
          return `${prefix ?? ''}${ticket.id}`;
        },
      },
      Subscription: {
        tickets: {
          subscribe: (_root: unknown, { privateFor }: { privateFor?: string }, context: { caller: Caller }) => {
            const queue: Ticket[] = [];
            let wake: (() => void) | null = null;
            let closed = false;
            const listener = (ticket: Ticket): void => {
              // The one subscriber entitled to more gets an event object of its own.
              queue.push(privateFor === context.caller.subject ? { ...ticket, secret: `for ${privateFor}` } : ticket);
              wake?.();
            };
            listeners.add(listener);
            const iterator: AsyncIterableIterator<Ticket> = {
              async next() {
                while (queue.length === 0 && !closed) await new Promise<void>((resolve) => (wake = resolve));
                return closed ? { done: true, value: undefined } : { done: false, value: queue.shift() as Ticket };
              },
              async return() {
                closed = true;
                listeners.delete(listener);
                wake?.();
                return { done: true, value: undefined };
              },
              [Symbol.asyncIterator]: () => iterator,
            };
            return iterator;
          },
          resolve: (ticket: Ticket) => ticket,
        },
      },
    },
  });
  const yoga = createYoga<{ caller: Caller }>({ schema, plugins: [useSharedSubscriptionExecution()] });

  const subscribe = async (query: string, caller: Caller, variables: Record<string, unknown> = {}) => {
    const { subscribe: run, contextFactory, schema: enveloped } = yoga.getEnveloped({});
    const stream = (await run({
      schema: enveloped,
      document: parse(query),
      variableValues: variables,
      contextValue: await contextFactory({ caller }),
    })) as AsyncIterableIterator<ExecutionResult>;
    return stream;
  };
  const publish = (ticket: Ticket): void => {
    for (const listener of listeners) listener(ticket);
  };
  return { subscribe, publish, executions: () => executions };
}

const approver = (index: number): Caller => ({ subject: `approver-${index}`, tenant: 'acme', roles: ['approver'] });
const QUERY = 'subscription { tickets { id label } }';

describe('shared subscription execution', () => {
  it('executes the selection of one event once for fifty subscribers of the same document and visibility', async () => {
    const { subscribe, publish, executions } = harness();
    // The same query text parsed fifty times, as fifty clients would send it.
    const streams = await Promise.all(Array.from({ length: 50 }, (_, index) => subscribe(QUERY, approver(index))));
    const pending = streams.map((stream) => stream.next());
    publish({ id: 't1' });
    const results = await Promise.all(pending);
    expect(executions()).toBe(1);
    for (const result of results) expect(result.value).toEqual({ data: { tickets: { id: 't1', label: 't1' } } });
    await Promise.all(streams.map((stream) => stream.return?.()));
  });

  it('executes separately for other variables, other roles and an event made for one subscriber alone', async () => {
    const { subscribe, publish, executions } = harness();
    const withPrefix = 'subscription ($prefix: String) { tickets { id label(prefix: $prefix) } }';
    const plain = await subscribe(QUERY, approver(1));
    const samePlain = await subscribe(QUERY, approver(2));
    const prefixed = await subscribe(withPrefix, approver(3), { prefix: '#' });
    const admin = await subscribe(QUERY, { subject: 'admin-1', tenant: 'acme', roles: ['admin'] });
    const secretQuery = 'subscription ($me: String) { tickets(privateFor: $me) { id label secret } }';
    const entitled = await subscribe(secretQuery, approver(4), { me: 'approver-4' });
    const other = await subscribe(secretQuery, approver(5), { me: 'approver-4' });
    const streams = [plain, samePlain, prefixed, admin, entitled, other];
    const pending = streams.map((stream) => stream.next());
    publish({ id: 't2' });
    const [plainResult, samePlainResult, prefixedResult, adminResult, entitledResult, otherResult] = (await Promise.all(pending)).map(
      (result) => result.value as ExecutionResult,
    );
    // plain and samePlain share one; prefixed, admin, entitled and other execute on their own.
    expect(executions()).toBe(5);
    expect(samePlainResult).toEqual(plainResult);
    expect(prefixedResult).toEqual({ data: { tickets: { id: 't2', label: '#t2' } } });
    expect(adminResult).toEqual({ data: { tickets: { id: 't2', label: 't2' } } });
    expect(entitledResult).toEqual({ data: { tickets: { id: 't2', label: 't2', secret: 'for approver-4' } } });
    expect(otherResult).toEqual({ data: { tickets: { id: 't2', label: 't2', secret: null } } });
    await Promise.all(streams.map((stream) => stream.return?.()));
  });

  it('stops the source when a subscriber leaves', async () => {
    const { subscribe, publish, executions } = harness();
    const leaving = await subscribe(QUERY, approver(1));
    const staying = await subscribe(QUERY, approver(2));
    const waiting = leaving.next();
    await leaving.return?.();
    expect(await waiting).toMatchObject({ done: true });
    const next = staying.next();
    publish({ id: 't3' });
    expect((await next).value).toEqual({ data: { tickets: { id: 't3', label: 't3' } } });
    expect(executions()).toBe(1);
    await staying.return?.();
  });
});
