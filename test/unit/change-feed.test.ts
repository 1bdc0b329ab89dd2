import { describe, expect, it } from 'vitest';
import type { ApprovalChange } from '../../src/app/events.js';
import type { ApprovalView } from '../../src/app/views.js';
import { InProcessChangeFeed } from '../../src/feed/in-process.js';

const change = (tenant: string, id: string): ApprovalChange => ({
  kind: 'requested',
  previousStatus: null,
  approval: { id, tenant, status: 'PENDING', decisionToken: null } as ApprovalView & { decisionToken: null },
});

describe('the in-process change pub/sub', () => {
  it('delivers a tenant\'s changes published after subscribing, in order, and none of another tenant\'s', async () => {
    const changes = new InProcessChangeFeed();
    const stream = changes.subscribe('acme');
    changes.publish(change('other', 'x'));
    changes.publish(change('acme', 'a'));
    changes.publish(change('acme', 'b'));
    expect((await stream.next()).value?.approval.id).toBe('a');
    expect((await stream.next()).value?.approval.id).toBe('b');
    await stream.return();
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('ends the stream of a subscriber that stops reading instead of buffering without bound', async () => {
    const changes = new InProcessChangeFeed();
    const stream = changes.subscribe('acme');
    for (let index = 0; index <= 10_000; index++) changes.publish(change('acme', String(index)));
    expect(changes.subscriberCount('acme')).toBe(0);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('hands a stream that follows one approval that approval\'s changes alone, beside the tenant\'s streams', async () => {
    const changes = new InProcessChangeFeed();
    const followsA = changes.subscribe('acme', { approvalId: 'a' });
    const alsoA = changes.subscribe('acme', { approvalId: 'a' });
    const followsB = changes.subscribe('acme', { approvalId: 'b' });
    const tenant = changes.subscribe('acme');
    expect(changes.subscriberCount('acme')).toBe(4);
    for (const [tenantName, id] of [['acme', 'b'], ['other', 'a'], ['acme', 'a'], ['acme', 'c'], ['acme', 'a']] as const) changes.publish(change(tenantName, id));
    expect([(await followsA.next()).value?.seq, (await followsA.next()).value?.seq]).toEqual([2, 4]);
    expect([(await alsoA.next()).value?.seq, (await alsoA.next()).value?.seq]).toEqual([2, 4]);
    expect((await followsB.next()).value?.seq).toBe(1);
    const tenantIds = [];
    for (let index = 0; index < 4; index++) tenantIds.push((await tenant.next()).value?.approval.id);
    expect(tenantIds).toEqual(['b', 'a', 'c', 'a']);

    await followsA.return();
    changes.publish(change('acme', 'a'));
    expect((await alsoA.next()).value?.seq).toBe(5);
    await alsoA.return();
    expect(changes.subscriberCount('acme')).toBe(2);
    // A later follower of the same approval hears of its changes, and resumes after a position with its own only.
    const resumed = changes.subscribe('acme', { approvalId: 'a', afterSeq: 1 });
    expect([(await resumed.next()).value?.seq, (await resumed.next()).value?.seq, (await resumed.next()).value?.seq]).toEqual([2, 4, 5]);
    changes.publish(change('acme', 'a'));
    expect((await resumed.next()).value?.seq).toBe(6);
  });
});
