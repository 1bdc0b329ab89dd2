/**
 * The policy bundle the test command built (scripts/build-bundle.sh), and what the policy tests do
 * with it: load it as the server does, copy it to tamper with, watch a copy, and build inputs.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyEvaluator, type PolicyEvent, type PolicyInput } from '../../src/policy/index.js';
import { REPO_ROOT } from './server.js';

export const BUNDLE_DIR = join(REPO_ROOT, 'bundle');
export const POLICY_SOURCES_DIR = join(REPO_ROOT, 'policies');

/** The built bundle, checked against the policy sources as the server checks it at start. */
export function loadBuiltBundle(): Promise<PolicyEvaluator> {
  return PolicyEvaluator.load({ bundleDir: BUNDLE_DIR, sourcesDir: POLICY_SOURCES_DIR });
}

/** A copy of the built bundle in a temporary folder, to tamper with. */
export function bundleCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bundle-'));
  cpSync(BUNDLE_DIR, dir, { recursive: true });
  return dir;
}

/** Makes the bundle in `dir` claim another revision (its digests still match). */
export function setRevision(dir: string, revision: string): void {
  const manifest = JSON.parse(readFileSync(join(dir, '.manifest'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, '.manifest'), JSON.stringify({ ...manifest, revision }));
}

/** An evaluator that watches a fresh copy of the bundle every 50 ms, and the events it reports; close it after. */
export async function watchedBundleCopy(
  options: { sourcesDir?: string } = {},
): Promise<{ dir: string; evaluator: PolicyEvaluator; events: PolicyEvent[] }> {
  const dir = bundleCopy();
  const events: PolicyEvent[] = [];
  const evaluator = await PolicyEvaluator.load({
    bundleDir: dir,
    ...options,
    watch: true,
    watchIntervalMs: 50,
    onEvent: (event) => events.push(event),
  });
  return { dir, evaluator, events };
}

/** A request to the policy from the agent `bot` of tenant `acme`: what `fields` say, and nothing more. */
export function policyInput(fields: Pick<PolicyInput, 'action'> & Partial<PolicyInput>): PolicyInput {
  return { tenant: 'acme', requester: { subject: 'bot', roles: ['agent'] }, agent: null, resource: null, context: {}, ...fields };
}
