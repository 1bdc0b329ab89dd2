import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import {
  failSafeDecision,
  parseDecision,
  type PolicyDecision,
  type PolicyInput,
  type TenantPolicySettings,
} from './decision.js';
import { policyRevision } from './revision-core.mjs';

/** The compiled entrypoint every evaluation calls. */
export const POLICY_ENTRYPOINT = 'countersign/approval/decision';

/** Why a bundle was refused; the evaluator keeps serving the previous one. */
export type PolicyBundleProblem = 'unreadable' | 'invalid_wasm' | 'missing_entrypoint' | 'stale' | 'bad_probe';

/** A bundle that cannot be served. */
export class PolicyBundleError extends Error {
  readonly code = 'POLICY_BUNDLE_INVALID';
  constructor(
    readonly problem: PolicyBundleProblem,
    readonly bundleDir: string,
    detail: string,
  ) {
    super(`policy bundle in ${bundleDir} refused (${problem}): ${detail}`);
    this.name = 'PolicyBundleError';
  }
}

/** Something the operator should hear about: an evaluation that failed safe, or a reload. */
export type PolicyEvent =
  | { kind: 'evaluation_failed'; problem: string; revision: string; tenant: string; action: string }
  | { kind: 'reloaded'; revision: string; previousRevision: string }
  | { kind: 'reload_refused'; error: PolicyBundleError; servingRevision: string };

export interface PolicyEvaluatorOptions {
  /** Folder holding policy.wasm and .manifest. */
  bundleDir: string;
  /**
   * When set, the bundle's revision must equal the digest of these policy sources, so a
   * bundle built from other sources is never served silently.
   */
  sourcesDir?: string;
  /** Reload the bundle when it changes on disk. */
  watch?: boolean;
  onEvent?: (event: PolicyEvent) => void;
}

interface LoadedBundle {
  policy: LoadedPolicy;
  revision: string;
}

/** A well-formed request that every sound bundle must answer with a valid decision. */
const PROBE_INPUT: PolicyInput = {
  tenant: 'countersign-probe',
  requester: { subject: 'probe', roles: ['agent'] },
  agent: null,
  action: 'countersign_probe',
  resource: null,
  context: {},
};

async function loadBundle(bundleDir: string, sourcesDir: string | undefined): Promise<LoadedBundle> {
  let wasm: Buffer;
  let manifest: { revision?: unknown };
  try {
    [wasm, manifest] = await Promise.all([
      readFile(join(bundleDir, 'policy.wasm')),
      readFile(join(bundleDir, '.manifest'), 'utf8').then((text) => JSON.parse(text) as { revision?: unknown }),
    ]);
  } catch (error) {
    throw new PolicyBundleError('unreadable', bundleDir, (error as Error).message);
  }
  const revision = typeof manifest.revision === 'string' ? manifest.revision : '';
  if (sourcesDir) {
    const expected = policyRevision(sourcesDir);
    if (revision !== expected) {
      throw new PolicyBundleError(
        'stale',
        bundleDir,
        `bundle revision ${revision || '(none)'} does not match the policy sources (${expected}); run npm run bundle`,
      );
    }
  }
  let policy: LoadedPolicy;
  try {
    policy = await loadPolicy(wasm);
  } catch (error) {
    throw new PolicyBundleError('invalid_wasm', bundleDir, (error as Error).message);
  }
  if (!(POLICY_ENTRYPOINT in (policy.entrypoints as Record<string, number>))) {
    throw new PolicyBundleError('missing_entrypoint', bundleDir, `no entrypoint ${POLICY_ENTRYPOINT}`);
  }
  policy.setData({ countersign: { tenants: {} } });
  let probe: PolicyDecision | string;
  try {
    probe = parseDecision(policy.evaluate(PROBE_INPUT, POLICY_ENTRYPOINT), revision);
  } catch (error) {
    probe = (error as Error).message;
  }
  if (typeof probe === 'string') throw new PolicyBundleError('bad_probe', bundleDir, probe);
  return { policy, revision };
}

/**
 * Evaluates approval requests against the compiled Rego bundle, in-process.
 * Never answers `allow` unless the policy itself said so in a well-formed document.
 */
export class PolicyEvaluator {
  private bundle: LoadedBundle;
  private tenants: Record<string, TenantPolicySettings> = {};
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();

  private constructor(
    bundle: LoadedBundle,
    private readonly options: PolicyEvaluatorOptions,
  ) {
    this.bundle = bundle;
  }

  /** Loads the bundle once; throws PolicyBundleError when it cannot be served. */
  static async load(options: PolicyEvaluatorOptions): Promise<PolicyEvaluator> {
    const evaluator = new PolicyEvaluator(await loadBundle(options.bundleDir, options.sourcesDir), options);
    if (options.watch) evaluator.startWatching();
    return evaluator;
  }

  /** The revision of the bundle now serving. */
  get revision(): string {
    return this.bundle.revision;
  }

  /** Evaluates one request. Any failure inside the policy yields the fail-safe decision. */
  evaluate(input: PolicyInput): PolicyDecision {
    const { policy, revision } = this.bundle;
    let parsed: PolicyDecision | string;
    try {
      parsed = parseDecision(policy.evaluate(input, POLICY_ENTRYPOINT), revision);
    } catch (error) {
      parsed = `evaluation threw: ${(error as Error).message}`;
    }
    if (typeof parsed !== 'string') return parsed;
    this.options.onEvent?.({
      kind: 'evaluation_failed',
      problem: parsed,
      revision,
      tenant: String(input.tenant),
      action: String(input.action),
    });
    return failSafeDecision(parsed, revision);
  }

  /** Replaces the per-tenant settings the policy reads as data; applies to the next evaluation. */
  setTenantSettings(tenants: Record<string, TenantPolicySettings>): void {
    this.tenants = { ...tenants };
    this.bundle.policy.setData({ countersign: { tenants: this.tenants } });
  }

  /** Updates one tenant's settings without touching the others. */
  setTenant(tenant: string, settings: TenantPolicySettings): void {
    this.setTenantSettings({ ...this.tenants, [tenant]: settings });
  }

  /**
   * Loads the bundle from disk again. A bundle that fails to load, is stale or answers the probe
   * badly is refused and the current one keeps serving.
   */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      const previousRevision = this.bundle.revision;
      try {
        const next = await loadBundle(this.options.bundleDir, this.options.sourcesDir);
        next.policy.setData({ countersign: { tenants: this.tenants } });
        this.bundle = next;
        this.options.onEvent?.({ kind: 'reloaded', revision: next.revision, previousRevision });
      } catch (error) {
        const refused =
          error instanceof PolicyBundleError
            ? error
            : new PolicyBundleError('unreadable', this.options.bundleDir, String(error));
        this.options.onEvent?.({ kind: 'reload_refused', error: refused, servingRevision: previousRevision });
      }
    });
    return this.reloading;
  }

  private startWatching(): void {
    // The build script writes .manifest last, but editors and copies may touch any file: debounce.
    this.watcher = watch(this.options.bundleDir, (_event, filename) => {
      if (filename && !['policy.wasm', '.manifest'].includes(filename.toString())) return;
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(), 150);
    });
    this.watcher.unref();
  }

  /** Stops watching the bundle folder. */
  close(): void {
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
  }
}
