import type { LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { PolicyInput } from './decision.js';

/**
 * The entrypoint through which a bundle declares the context keys its rules read. Optional: a
 * bundle without it is handed the whole context.
 */
export const READ_CONTEXT_KEYS_ENTRYPOINT = 'countersign/approval/read_context_keys';

/**
 * The context keys the bundle's policy reads (compared after trimming and case folding), or null
 * when it does not say, or says something that is not a list of strings.
 */
export function readContextKeys(policy: LoadedPolicy): ReadonlySet<string> | null {
  if (!(READ_CONTEXT_KEYS_ENTRYPOINT in (policy.entrypoints as Record<string, number>))) return null;
  const [first] = (policy.evaluate({}, READ_CONTEXT_KEYS_ENTRYPOINT) ?? []) as { result?: unknown }[];
  const keys = first?.result;
  if (!Array.isArray(keys) || !keys.every((key): key is string => typeof key === 'string')) return null;
  return new Set(keys.map((key) => key.toLowerCase()));
}

/** Keys of ASCII characters only: for them JavaScript's trim and lower case are Go's (OPA's). */
const ASCII = /^[\x00-\x7f]*$/;

/**
 * The input with its context narrowed to the members the policy reads. The policy is compiled to
 * WebAssembly, which parses its input from JSON text at every evaluation: a bulky context (an
 * invoice with a hundred lines) cost more to serialise and parse than the decision itself, for keys
 * no rule looks at. A member is kept when its key, trimmed and lower-cased, is one the policy reads,
 * and whenever its key holds a non-ASCII character (where Unicode trimming or case folding might
 * differ between JavaScript and OPA), so the policy sees every member it could match. A context that
 * is not a plain object is handed over as it is: the policy refuses it (CS-201).
 */
export function narrowContext(input: PolicyInput, keys: ReadonlySet<string> | null): PolicyInput {
  const context = input.context as unknown;
  if (keys === null || typeof context !== 'object' || context === null || Array.isArray(context)) return input;
  const narrowed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) {
    if (!ASCII.test(key) || keys.has(key.trim().toLowerCase())) narrowed[key] = value;
  }
  return { ...input, context: narrowed };
}
