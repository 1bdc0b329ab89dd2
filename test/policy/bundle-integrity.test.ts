import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { PolicyEvaluator } from '../../src/policy/index.js';
import { BUNDLE_DIR, bundleCopy, policyInput, POLICY_SOURCES_DIR, setRevision, watchedBundleCopy } from '../support/bundles.js';
import { REPO_ROOT, startTestServer } from '../support/server.js';

const run = promisify(execFile);

const largePayment = policyInput({ agent: 'payer', action: 'payment', resource: 'invoice/1', context: { amount: 1_000_000 }, confidence: 1 });

const ALWAYS_ALLOW = `package countersign.approval

decision := {
	"outcome": "allow",
	"risk_score": 0,
	"risk_level": "low",
	"reasons": [{"rule_id": "CS-301", "message": "allowed"}],
	"required_approvals": 0,
	"approver_roles": [],
	"escalated": false,
	"request_ttl_seconds": 3600,
	"token_ttl_seconds": 300,
}
`;

describe('the bundle that runs is the bundle that was built', () => {
  let alwaysAllowWasm: Buffer;
  beforeAll(async () => {
    // A real, valid policy.wasm with the right entrypoint that allows everything.
    const work = mkdtempSync(join(tmpdir(), 'countersign-evil-'));
    mkdirSync(join(work, 'src'));
    writeFileSync(join(work, 'src', 'evil.rego'), ALWAYS_ALLOW);
    await run(join(REPO_ROOT, '.tools', 'bin', 'opa'), [
      'build', '-t', 'wasm', '-e', 'countersign/approval/decision', '-o', join(work, 'bundle.tar.gz'), join(work, 'src'),
    ]);
    await run('tar', ['-xzf', join(work, 'bundle.tar.gz'), '-C', work, '/policy.wasm']);
    alwaysAllowWasm = readFileSync(join(work, 'policy.wasm'));
    rmSync(work, { recursive: true, force: true });
  });

  it('records the digests of policy.wasm and data.json in the manifest at build time', () => {
    const manifest = JSON.parse(readFileSync(join(BUNDLE_DIR, '.manifest'), 'utf8')) as {
      metadata: { countersign: { files: Record<string, string> } };
    };
    expect(manifest.metadata.countersign.files).toEqual({
      'policy.wasm': expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      'data.json': expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
  });

  it('refuses at start an always-allow policy.wasm copied beside a genuine manifest', async () => {
    const dir = bundleCopy();
    writeFileSync(join(dir, 'policy.wasm'), alwaysAllowWasm);
    const loading = PolicyEvaluator.load({ bundleDir: dir, sourcesDir: POLICY_SOURCES_DIR });
    await expect(loading).rejects.toMatchObject({ problem: 'tampered' });
    await expect(loading).rejects.toThrow(/policy\.wasm .* is not the file \.manifest was built with/);
  });

  it('refuses a data.json changed after the build', async () => {
    const dir = bundleCopy();
    writeFileSync(join(dir, 'data.json'), JSON.stringify({ countersign: { tenants: { acme: { allowlist: ['payment'] } } } }));
    await expect(PolicyEvaluator.load({ bundleDir: dir, sourcesDir: POLICY_SOURCES_DIR })).rejects.toMatchObject({ problem: 'tampered' });
  });

  it('refuses a bundle whose manifest records no digests (a bare opa build)', async () => {
    const dir = bundleCopy();
    const manifest = JSON.parse(readFileSync(join(dir, '.manifest'), 'utf8')) as Record<string, unknown>;
    delete manifest['metadata'];
    writeFileSync(join(dir, '.manifest'), JSON.stringify(manifest));
    await expect(PolicyEvaluator.load({ bundleDir: dir, sourcesDir: POLICY_SOURCES_DIR })).rejects.toMatchObject({ problem: 'tampered' });
  });

  it('refuses the swapped policy.wasm on hot reload and keeps requiring approval for a large payment', async () => {
    const { dir, evaluator, events } = await watchedBundleCopy({ sourcesDir: POLICY_SOURCES_DIR });
    try {
      const revision = evaluator.revision;
      writeFileSync(join(dir, 'policy.wasm'), alwaysAllowWasm);
      await vi.waitFor(() => expect(events.map((event) => event.kind)).toContain('reload_refused'), { timeout: 10_000 });
      expect(events).toContainEqual(expect.objectContaining({ kind: 'reload_refused', servingRevision: revision }));
      expect(events.find((event) => event.kind === 'reload_refused')).toMatchObject({ error: { problem: 'tampered' } });
      expect(events.map((event) => event.kind)).not.toContain('reloaded');
      expect(evaluator.evaluate(largePayment).outcome).toBe('require_approval');
    } finally {
      evaluator.close();
    }
  });

  it('keeps watching after the bundle folder is deleted and created again', async () => {
    const { dir, evaluator, events } = await watchedBundleCopy();
    try {
      const firstRevision = evaluator.revision;
      rmSync(dir, { recursive: true, force: true });
      await vi.waitFor(() => expect(events.map((event) => event.kind)).toContain('reload_refused'), { timeout: 10_000 });
      expect(events.find((event) => event.kind === 'reload_refused')).toMatchObject({
        error: { problem: 'unreadable' },
        servingRevision: firstRevision,
      });
      expect(evaluator.evaluate(largePayment).outcome).toBe('require_approval');

      cpSync(BUNDLE_DIR, dir, { recursive: true });
      setRevision(dir, 'sha256:2222222222222222');
      await vi.waitFor(() => expect(evaluator.revision).toBe('sha256:2222222222222222'), { timeout: 10_000 });
      expect(events).toContainEqual({ kind: 'reloaded', revision: 'sha256:2222222222222222', previousRevision: firstRevision });
    } finally {
      evaluator.close();
    }
  });

  it('reports the new revision on /healthz once a deleted bundle folder is back', async () => {
    const dir = bundleCopy();
    const server = await startTestServer({ bundleDir: dir, policySourcesDir: null, watchBundle: true });
    try {
      const health = async () => ((await (await fetch(`${server.url}/healthz`)).json()) as { policyRevision: string }).policyRevision;
      const firstRevision = await health();
      rmSync(dir, { recursive: true, force: true });
      // The watcher sees the folder gone: the reload fails, and the old bundle keeps serving.
      await vi.waitFor(() => expect(server.app.evaluator.reloadProblem?.problem).toBe('unreadable'), { timeout: 10_000 });
      expect(await health()).toBe(firstRevision);
      cpSync(BUNDLE_DIR, dir, { recursive: true });
      setRevision(dir, 'sha256:3333333333333333');
      await vi.waitFor(async () => expect(await health()).toBe('sha256:3333333333333333'), { timeout: 15_000, interval: 100 });
      expect(server.app.evaluator.reloadProblem).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
