import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkpointBody, signCheckpoint, verifierKey, verifyCheckpoint } from '../../src/domain/checkpoint.js';
import { generateSigningKey } from '../../src/domain/decision-token.js';

const checkpoint = { origin: 'urn:countersign:local/audit/acme', size: 3, headHash: 'ab'.repeat(32), time: new Date('2026-12-01T12:00:00Z') };

describe('signed audit checkpoints', () => {
  it('writes the tlog-checkpoint body: origin, size, base64 head, then the time extension line', () => {
    expect(checkpointBody(checkpoint)).toBe(`urn:countersign:local/audit/acme\n3\n${Buffer.from('ab'.repeat(32), 'hex').toString('base64')}\ntime 2026-12-01T12:00:00.000Z\n`);
  });

  it('signs a note that verifies with the key named by its kid, and with nothing else', async () => {
    const key = await generateSigningKey();
    const other = await generateSigningKey();
    const note = signCheckpoint(checkpoint, key);
    const [, signatureLine] = note.split('\n\n');
    expect(signatureLine).toMatch(new RegExp(`^\u2014 countersign-audit/${key.kid} [A-Za-z0-9+/]{91}=\n$`));
    expect(verifyCheckpoint(note, (kid) => (kid === key.kid ? key.publicJwk : null))).toMatchObject({ ...checkpoint, kid: key.kid });
    expect(() => verifyCheckpoint(note, () => null)).toThrow(/signed by no key of this server/);
    expect(() => verifyCheckpoint(note, () => other.publicJwk)).toThrow(/signed by no key/);
    expect(() => verifyCheckpoint(note.replace('\n3\n', '\n4\n'), () => key.publicJwk)).toThrow(/does not verify/);
  });

  it('gives the signed-note vkey whose key id is SHA-256(name, newline, 0x01, key) cut to 4 bytes', async () => {
    const key = await generateSigningKey();
    // name+id+key: the key's base64 may itself hold '+', so only the first two separate.
    const [, name, id, encoded] = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(verifierKey(key.publicJwk as never)) as unknown as [string, string, string, string];
    const raw = Buffer.from(encoded, 'base64');
    expect([name, raw[0], raw.byteLength]).toEqual([`countersign-audit/${key.kid}`, 1, 33]);
    expect(id).toBe(createHash('sha256').update(`${name}\n`).update(raw).digest().subarray(0, 4).toString('hex'));
    const signature = Buffer.from(signCheckpoint(checkpoint, key).trim().split(' ').at(-1) as string, 'base64');
    expect(signature.subarray(0, 4).toString('hex')).toBe(id);
  });
});
