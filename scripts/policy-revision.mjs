// Prints the policy revision: a digest of every policy source file (tests excluded),
// so a bundle can always say which sources made it. The server computes the same
// digest (src/policy/revision.ts) to refuse a bundle that no longer matches.
import { policyRevision } from '../src/policy/revision-core.mjs';

process.stdout.write(policyRevision(process.argv[2] ?? 'policies') + '\n');
