/**
 * How far a peer's clock is from this site's, measured at every sync: the
 * peer puts its clock in the request (`now`, in ms), the site compares it
 * with its own when the request arrives. The difference includes the
 * request's travel time, so it is only a measurement of a clock that is
 * wrong by more than {@linkcode CLOCK_TOLERANCE_MS}; within that, the peer's
 * times are taken as they are.
 *
 * @module
 */

/** Clocks closer than this are not corrected: travel time and jitter are of this order. */
export const CLOCK_TOLERANCE_MS = 60_000;

export interface ClockOffset {
  /** This site's clock minus the peer's, as measured (ms). */
  measuredMs: number;
  /** What to add to the peer's times: the measurement in whole seconds, or 0 within tolerance. */
  correctionMs: number;
}

/** The offset of a peer that sent `peerNow` when this site's clock read `siteNow`. */
export function clockOffset(peerNow: number, siteNow: number): ClockOffset {
  const measuredMs = siteNow - peerNow;
  const correctionMs = Math.abs(measuredMs) < CLOCK_TOLERANCE_MS
    ? 0
    : Math.round(measuredMs / 1000) * 1000;
  return { measuredMs, correctionMs };
}
