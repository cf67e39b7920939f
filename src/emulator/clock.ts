/**
 * The emulator's notion of time. Every TTL decision reads this clock, so tests can jump past a
 * cache expiry with `advance()` instead of waiting for it.
 */
export interface EmulatorClock {
  /** Milliseconds since the epoch, as the emulator sees it. */
  now(): number;
  /** Moves the clock forward; negative values are ignored so time never runs backwards. */
  advance(ms: number): void;
}

/** Follows the wall clock plus whatever has been advanced, so demos still see caches expire in real time. */
export function createClock(): EmulatorClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance: (ms) => {
      if (Number.isFinite(ms) && ms > 0) offset += ms;
    },
  };
}

/** Stands still unless advanced: for unit tests that must not depend on how long they take. */
export function createManualClock(start = 0): EmulatorClock {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      if (Number.isFinite(ms) && ms > 0) current += ms;
    },
  };
}
