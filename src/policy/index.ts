export * from './decision.js';
export * from './evaluator.js';
export { policyRevision } from './revision-core.mjs';
