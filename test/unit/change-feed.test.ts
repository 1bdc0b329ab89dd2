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
});
