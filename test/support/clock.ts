/**
 * A clock for a test server: the machine's time plus an offset the test moves forward, so a test
 * that waits for an expiry advances time instead of sleeping.
 */
export class TestClock {
  private offsetMs = 0;

  /** The clock to inject (buildApp's `now`). */
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);

  /** Moves time forward by `milliseconds`. */
  advance(milliseconds: number): void {
    this.offsetMs += milliseconds;
  }
}
