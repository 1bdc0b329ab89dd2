/** The approver and auditor commands; they talk to a running server over GraphQL. */
export async function runClientCommand(argv: string[]): Promise<number> {
  console.error(`countersign: unknown command "${argv.join(' ')}" (see countersign help)`);
  return 2;
}
