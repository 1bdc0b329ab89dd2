import { describe, expect, it } from 'vitest';
import type { ApprovalChange } from '../../src/app/events.js';
import { InProcessChangeFeed } from '../../src/feed/in-process.js';
import { boundedSelect } from '../../src/transports/graphql/bounded-stream.js';

const change = (id: string, context: Record<string, unknown> = {}): ApprovalChange => ({
  kind: 'requested',
  previousStatus: null,
  approval: { id, tenant: 'acme', status: 'PENDING', context, decisionToken: null } as unknown as ApprovalChange['approval'],
});

/** Lets the subscriber's drain loop take everything the feed delivered so far. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a subscriber\'s buffer, bounded in bytes', () => {
  it('ends the subscription of a reader that stopped once its buffer passes the byte limit', async () => {
    const feed = new InProcessChangeFeed();
    const events = boundedSelect(feed.subscribe('acme'), (value) => value, 1024 * 1024);
    for (let index = 0; index < 10; index++) feed.publish(change(String(index), { blob: 'x'.repeat(100_000) }));
    await settle();
    expect(feed.subscriberCount('acme')).toBe(1);
    feed.publish(change('10', { blob: 'x'.repeat(100_000) }));
    await settle();
    expect(feed.subscriberCount('acme')).toBe(0);
    expect(await events.next()).toEqual({ done: true, value: undefined });
  });

  it('counts bytes, not events: 12,000 small changes are kept for a slow reader, and freed as they are read', async () => {
    const feed = new InProcessChangeFeed();
    const events = boundedSelect(feed.subscribe('acme'), (value) => value.approval.id, 2 * 1024 * 1024);
    for (let index = 0; index < 12_000; index++) {
      feed.publish(change(String(index)));
      if (index % 1000 === 999) await settle();
    }
    await settle();
    expect(feed.subscriberCount('acme')).toBe(1);
    for (let index = 0; index < 12_000; index++) expect((await events.next()).value).toBe(String(index));
    for (let round = 0; round < 3; round++) {
      for (let index = 0; index < 9_000; index++) feed.publish(change('again'));
      await settle();
      for (let index = 0; index < 9_000; index++) await events.next();
    }
    expect(feed.subscriberCount('acme')).toBe(1);
    await events.return!();
    expect(feed.subscriberCount('acme')).toBe(0);
  });

  it('skips what the projection drops and stops listening at once on return()', async () => {
    const feed = new InProcessChangeFeed();
    const events = boundedSelect(feed.subscribe('acme'), (value) => (value.approval.id === 'wanted' ? value.approval.id : null));
    const next = events.next();
    feed.publish(change('other'));
    feed.publish(change('wanted'));
    expect(await next).toEqual({ done: false, value: 'wanted' });
    const waiting = events.next();
    await events.return!();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(feed.subscriberCount('acme')).toBe(0);
  });
});
