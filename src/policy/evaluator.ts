import { unwatchFile, watchFile, type Stats } from 'node:fs';
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
import { sealProblem } from './bundle-seal.mjs';
import { narrowContext, readContextKeys } from './context-reads.js';
import { policyRevision } from './revision-core.mjs';

/** The compiled entrypoint every evaluation calls. */
export const POLICY_ENTRYPOINT = 'countersign/approval/decision';

/** Why a bundle was refused; the evaluator keeps serving the previous one. */
export type PolicyBundleProblem =
  | 'unreadable'
  /** policy.wasm or data.json is not the file the manifest was built with (or the manifest records no digests). */
  | 'tampered'
  | 'invalid_wasm'
  | 'missing_entrypoint'
  | 'stale'
  | 'bad_probe';

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
  /** Folder holding policy.wasm, data.json and .manifest, as scripts/build-bundle.sh writes them. */
  bundleDir: string;
  /**
   * When set, the bundle's revision must equal the digest of these policy sources, so a
   * bundle built from other sources is never served silently.
   */
  sourcesDir?: string;
  /**
   * Reload the bundle when it changes on disk. The bundle files are polled by path, so watching
   * survives the folder being deleted and created again.
   */
  watch?: boolean;
  /** How often the watched bundle files are checked, in milliseconds (default 500). */
  watchIntervalMs?: number;
  onEvent?: (event: PolicyEvent) => void;
}

interface LoadedBundle {
  policy: LoadedPolicy;
  revision: string;
  /** The bundle's data.json, under which the tenant settings are set. */
  data: Record<string, unknown>;
  /** The context keys the policy declares it reads; null: it is handed the whole context. */
  contextKeys: ReadonlySet<string> | null;
}

/** The files of a bundle; the build writes .manifest last. */
const BUNDLE_FILES = ['policy.wasm', 'data.json', '.manifest'];
/** How long the watcher lets a change settle before reloading. */
const SETTLE_MS = 150;

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
  let dataBytes: Buffer;
  let manifest: { revision?: unknown };
  try {
    [wasm, dataBytes, manifest] = await Promise.all([
      readFile(join(bundleDir, 'policy.wasm')),
      readFile(join(bundleDir, 'data.json')),
      readFile(join(bundleDir, '.manifest'), 'utf8').then((text) => JSON.parse(text) as { revision?: unknown }),
    ]);
  } catch (error) {
    throw new PolicyBundleError('unreadable', bundleDir, (error as Error).message);
  }
  // The revision names the sources; the recorded digests tie it to these exact bytes, so a
  // policy.wasm or data.json swapped in beside a genuine manifest is never served under its name.
  const tampered = sealProblem(manifest, { 'policy.wasm': wasm, 'data.json': dataBytes });
  if (tampered) throw new PolicyBundleError('tampered', bundleDir, tampered);
  let data: unknown;
  try {
    data = JSON.parse(dataBytes.toString('utf8'));
  } catch (error) {
    throw new PolicyBundleError('unreadable', bundleDir, `data.json: ${(error as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PolicyBundleError('unreadable', bundleDir, 'data.json is not an object');
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
  const bundleData = data as Record<string, unknown>;
  policy.setData(withTenants(bundleData, {}));
  let probe: PolicyDecision | string;
  try {
    probe = parseDecision(policy.evaluate(PROBE_INPUT, POLICY_ENTRYPOINT), revision);
  } catch (error) {
    probe = (error as Error).message;
  }
  if (typeof probe === 'string') throw new PolicyBundleError('bad_probe', bundleDir, probe);
  let contextKeys: ReadonlySet<string> | null;
  try {
    contextKeys = readContextKeys(policy);
  } catch (error) {
    throw new PolicyBundleError('bad_probe', bundleDir, `read_context_keys: ${(error as Error).message}`);
  }
  return { policy, revision, data: bundleData, contextKeys };
}

/** The bundle's data with the tenant settings at data.countersign.tenants. */
function withTenants(data: Record<string, unknown>, tenants: Record<string, TenantPolicySettings>): Record<string, unknown> {
  const countersign = data['countersign'];
  const base = typeof countersign === 'object' && countersign !== null && !Array.isArray(countersign) ? countersign : {};
  return { ...data, countersign: { ...base, tenants } };
}

/**
 * Evaluates approval requests against the compiled Rego bundle, in-process.
 * Never answers `allow` unless the policy itself said so in a well-formed document.
 */
export class PolicyEvaluator {
  private bundle: LoadedBundle;
  private tenants: Record<string, TenantPolicySettings> = {};
  private watchedPaths: string[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private refusal: PolicyBundleError | undefined;

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

  /**
   * Why the last reload was refused, while the bundle on disk is still not servable (the previous
   * bundle keeps serving); undefined once a reload succeeds.
   */
  get reloadProblem(): PolicyBundleError | undefined {
    return this.refusal;
  }

  /** Evaluates one request. Any failure inside the policy yields the fail-safe decision. */
  evaluate(input: PolicyInput): PolicyDecision {
    const { policy, revision, contextKeys } = this.bundle;
    let parsed: PolicyDecision | string;
    try {
      parsed = parseDecision(policy.evaluate(narrowContext(input, contextKeys), POLICY_ENTRYPOINT), revision);
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
    this.bundle.policy.setData(withTenants(this.bundle.data, this.tenants));
  }

  /** Updates one tenant's settings without touching the others. */
  setTenant(tenant: string, settings: TenantPolicySettings): void {
    this.setTenantSettings({ ...this.tenants, [tenant]: settings });
  }

  /**
   * Loads the bundle from disk again. A bundle that fails to load, is stale, is not the one its
   * manifest was built with, or answers the probe badly is refused and the current one keeps
   * serving.
   */
  reload(): Promise<void> {
    return this.enqueueReload(false);
  }

  private enqueueReload(mayBeMidWrite: boolean): Promise<void> {
    this.reloading = this.reloading.then(async () => {
      const previousRevision = this.bundle.revision;
      try {
        const next = await loadBundle(this.options.bundleDir, this.options.sourcesDir);
        next.policy.setData(withTenants(next.data, this.tenants));
        this.bundle = next;
        this.refusal = undefined;
        this.options.onEvent?.({ kind: 'reloaded', revision: next.revision, previousRevision });
      } catch (error) {
        const refused =
          error instanceof PolicyBundleError
            ? error
            : new PolicyBundleError('unreadable', this.options.bundleDir, String(error));
        if (mayBeMidWrite && (refused.problem === 'unreadable' || refused.problem === 'tampered')) {
          // A build or a copy may be half-way through its three files: look again once they have
          // had time to settle, and report only what is still wrong then.
          this.scheduleReload(2 * this.watchIntervalMs + SETTLE_MS, false);
          return;
        }
        this.refusal = refused;
        this.options.onEvent?.({ kind: 'reload_refused', error: refused, servingRevision: previousRevision });
      }
    });
    return this.reloading;
  }

  private get watchIntervalMs(): number {
    return this.options.watchIntervalMs ?? 500;
  }

  private scheduleReload(delayMs: number, mayBeMidWrite: boolean): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => void this.enqueueReload(mayBeMidWrite), delayMs);
    this.reloadTimer.unref();
  }

  private readonly bundleFileChanged = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return;
    this.scheduleReload(Math.min(SETTLE_MS, this.watchIntervalMs), true);
  };

  private startWatching(): void {
    // Polled by path rather than fs.watch on the folder: an inotify watch dies with the folder it
    // watches, so a bundle folder deleted and created again (a redeploy, a volume remount) would
    // silently never reload. A stat per file per interval costs nothing measurable.
    this.watchedPaths = BUNDLE_FILES.map((name) => join(this.options.bundleDir, name));
    for (const path of this.watchedPaths) {
      watchFile(path, { interval: this.watchIntervalMs, persistent: false }, this.bundleFileChanged);
    }
  }

  /** Stops watching the bundle folder. */
  close(): void {
    clearTimeout(this.reloadTimer);
    for (const path of this.watchedPaths) unwatchFile(path, this.bundleFileChanged);
    this.watchedPaths = [];
  }
}
