/**
 * Scales map data values onto [0, 1] along an axis and choose its ticks. Charts multiply the
 * position by their plot size; nothing here knows about pixels or SVG.
 */

export interface Scale {
  /**
   * Invariants: domain[0] < domain[1]; it covers the data up to rounding noise (ticks are
   * written to 12 significant digits); ticks ascend and lie within it.
   */
  readonly domain: readonly [number, number];
  readonly ticks: readonly number[];
  /** 0 at domain[0], 1 at domain[1]; outside the domain the value extrapolates. */
  position(value: number): number;
}

export interface LinearOptions {
  /** Roughly how many ticks to aim for (default 5). */
  readonly count?: number;
  /** Ticks on whole numbers only (rounds, client counts). */
  readonly integer?: boolean;
  /** Stretch the extent to include 0 (bars, counts). */
  readonly includeZero?: boolean;
  /** Widen the domain to the ticks around the data (the usual for a y axis); else keep it. */
  readonly nice?: boolean;
}

/** Removes binary noise so that 0.1 * 3 is 0.3 and tick labels are exact. */
const clean = (value: number) => Number(value.toPrecision(12));

/** The 1-2-5 step nearest above `rough`: 0.013 -> 0.02, 730 -> 1000. */
export function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return clean(nice * power);
}

/** Spreads below this are treated as none: steps that small underflow to subnormal numbers. */
const TINY = 1e-200;

/**
 * A non-empty extent for degenerate data: a single value, or values so close together that
 * their spread is rounding noise (ticks that fine could not be written apart). An extent that
 * starts at or above zero never widens below it: a count of 0 gets the axis 0..1, not -1..1.
 */
function widen(lo: number, hi: number, integer: boolean): [number, number] {
  if (hi - lo > Math.max(Math.abs(lo), Math.abs(hi), TINY / 1e-9) * 1e-9) return [lo, hi];
  const half = integer ? 1 : Math.max(Math.abs(lo) * 0.05, lo === 0 ? 0.5 : TINY);
  return [lo >= 0 ? Math.max(0, lo - half) : lo - half, hi + half];
}

export function linearScale(min: number, max: number, options: LinearOptions = {}): Scale {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`bad extent [${min}, ${max}]`);
  }
  const { count = 5, integer = false, includeZero = false, nice = true } = options;
  const [lo, hi] = widen(
    includeZero ? Math.min(min, 0) : min,
    includeZero ? Math.max(max, 0) : max,
    integer,
  );
  let step = niceStep((hi - lo) / Math.max(1, count - 1));
  if (integer) step = Math.max(1, step);
  const below = Math.floor(clean(lo / step));
  const above = Math.ceil(clean(hi / step));
  const domain: [number, number] = nice ? [clean(below * step), clean(above * step)] : [lo, hi];
  const first = nice ? below : Math.ceil(clean(lo / step));
  const last = nice ? above : Math.floor(clean(hi / step));
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(clean(k * step));
  const [d0, d1] = domain;
  return { domain, ticks, position: (value) => (value - d0) / (d1 - d0) };
}

/** 1-2-5 ticks within a decade: enough labels when the data spans few decades. */
const MANTISSAS = [1, 2, 5];

/**
 * A base-10 logarithmic scale for positive values that differ by orders of magnitude (bytes
 * up versus down). Spanning at most two decades it ticks at 1, 2, 5 x 10^k; beyond that at powers
 * of ten. The domain runs from the tick at or below the smallest value to the tick at or above
 * the largest.
 */
export function logScale(min: number, max: number): Scale {
  if (!(min > 0) || !Number.isFinite(max) || min > max) {
    throw new RangeError(`bad extent for a log scale [${min}, ${max}]`);
  }
  const loExp = Math.floor(Math.log10(min));
  const hiExp = Math.ceil(Math.log10(max));
  const mantissas = hiExp - loExp <= 2 ? MANTISSAS : [1];
  const candidates: number[] = [];
  for (let e = loExp - 1; e <= hiExp + 1; e++)
    for (const m of mantissas) candidates.push(clean(m * 10 ** e));
  let start = candidates.findLastIndex((t) => t <= min);
  let end = candidates.findIndex((t) => t >= max);
  if (start === end) {
    // One value exactly on a tick: show the ticks on either side too (candidates reach a decade
    // beyond the data on both sides, so these indices exist).
    start -= 1;
    end += 1;
  }
  const ticks = candidates.slice(start, end + 1);
  const domain: [number, number] = [ticks[0] as number, ticks[ticks.length - 1] as number];
  const [l0, l1] = [Math.log10(domain[0]), Math.log10(domain[1])];
  return { domain, ticks, position: (value) => (Math.log10(value) - l0) / (l1 - l0) };
}
