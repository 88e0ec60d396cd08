// How often a waiting request is read: every second near the front, less often further back (a
// quarter of the estimated wait, at most every 5 seconds), so that a long line does not cost a
// read a second for each fan in it (docs/scale.md).

const FASTEST_MS = 1_000;
const SLOWEST_MS = 5_000;

/** Milliseconds until the next read of a request that waits about `estimatedWaitSeconds`. */
export function nextPoll(estimatedWaitSeconds?: number): number {
  if (estimatedWaitSeconds === undefined) return FASTEST_MS;
  return Math.min(SLOWEST_MS, Math.max(FASTEST_MS, (estimatedWaitSeconds * 1_000) / 4));
}
