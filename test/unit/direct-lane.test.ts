import { parse, type ExecutionResult } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import type { ApprovalChange } from '../../src/app/events.js';
import type { Caller } from '../../src/app/caller.js';
import type { StreamedChange } from '../../src/feed/feed.js';
import { InProcessChangeFeed } from '../../src/feed/in-process.js';
import { boundedSelect } from '../../src/transports/graphql/bounded-stream.js';
import { directLaneOf, useSharedSubscriptionExecution } from '../../src/transports/graphql/shared-execution.js';

const change = (id: string): ApprovalChange => ({
  kind: 'requested',
  previousStatus: null,
  approval: { id, tenant: 'acme', status: 'PENDING', context: {}, decisionToken: null } as unknown as ApprovalChange['approval'],
});

/** Subscribers of a feed through boundedSelect, as the GraphQL subscriptions are; `label` counts executions and fails on "boom". */
function harness(project: (change: StreamedChange) => StreamedChange | null | Promise<StreamedChange | null> = (value) => value) {
  const feed = new InProcessChangeFeed();
  let executions = 0;
  const schema = createSchema<{ caller: Caller }>({
    typeDefs: /* GraphQL */ `
      type Change { id: ID!, label: String! }
      type Query { ok: Boolean }
      type Subscription { changes: Change! }
    `,
    resolvers: {
      Change: {
        id: (event: StreamedChange) => event.approval.id,
        label: (event: StreamedChange) => {
          executions++;
          if (event.approval.id === 'boom') throw new Error('a secret database detail');
          return `#${event.approval.id}`;
        },
      },
      Subscription: {
        changes: { subscribe: () => boundedSelect(feed.subscribe('acme'), project), resolve: (event: StreamedChange) => event },
      },
    },
  });
  const yoga = createYoga<{ caller: Caller }>({ schema, logging: false, plugins: [useSharedSubscriptionExecution()] });
  const subscribe = async (caller: Caller) => {
    const { subscribe: run, contextFactory, schema: enveloped } = yoga.getEnveloped({});
    const contextValue = await contextFactory({ caller });
    const stream = (await run({ schema: enveloped, document: parse('subscription { changes { id label } }'), contextValue })) as AsyncIterableIterator<ExecutionResult>;
    const lane = directLaneOf(contextValue);
    if (!lane) throw new Error('no direct lane');
    const delivered: ExecutionResult[] = [];
    lane.start((result) => delivered.push(result));
    return { stream, delivered };
  };
  return { feed, subscribe, executions: () => executions };
}

const approver = (index: number): Caller => ({ subject: `approver-${index}`, tenant: 'acme', roles: ['approver'] });

describe('the direct lane of a subscription', () => {
  it('delivers a change to fifty subscribers as it is published, executed once, with no promise to wait for', async () => {
    const { feed, subscribe, executions } = harness();
    const subscribers = await Promise.all(Array.from({ length: 50 }, (_, index) => subscribe(approver(index))));
    feed.publish(change('a1'));
    expect(executions()).toBe(1);
    for (const { delivered } of subscribers) expect(delivered).toEqual([{ data: { changes: { id: 'a1', label: '#a1' } } }]);
    // The very object: its JSON is made once for all of them.
    expect(new Set(subscribers.map(({ delivered }) => delivered[0])).size).toBe(1);
    await Promise.all(subscribers.map(({ stream }) => stream.return?.()));
    expect(feed.subscriberCount('acme')).toBe(0);
  });

  it('keeps the order when a projection is asynchronous (the requester\'s token read)', async () => {
    const { feed, subscribe } = harness((value) => (value.approval.id === 'slow' ? new Promise((resolve) => setTimeout(() => resolve(value), 20)) : value));
    const { stream, delivered } = await subscribe(approver(1));
    feed.publish(change('slow'));
    feed.publish(change('after'));
    expect(delivered).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(delivered.map((result) => (result.data?.['changes'] as { id: string }).id)).toEqual(['slow', 'after']);
    await stream.return?.();
  });

  it('hands a result carrying errors, and what follows it, to the iterator, where the envelop masks the error', async () => {
    const { feed, subscribe } = harness();
    const { stream, delivered } = await subscribe(approver(1));
    feed.publish(change('fine'));
    feed.publish(change('boom'));
    feed.publish(change('later'));
    expect(delivered).toHaveLength(1);
    const failed = (await stream.next()).value as ExecutionResult;
    expect(failed.errors?.[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(failed)).not.toContain('secret database detail');
    expect(((await stream.next()).value as ExecutionResult).data).toEqual({ changes: { id: 'later', label: '#later' } });
    expect(delivered).toHaveLength(1);
    await stream.return?.();
  });

  it('ends the iterator and stops listening when the subscriber leaves', async () => {
    const { feed, subscribe } = harness();
    const { stream } = await subscribe(approver(1));
    const waiting = stream.next();
    await stream.return?.();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(feed.subscriberCount('acme')).toBe(0);
  });
});
