/** The time source of the gate: injected end to end, so tests advance time instead of sleeping. */
export type Clock = () => Date;

/** The machine's clock. */
export const systemClock: Clock = () => new Date();
