/**
 * How numbers read, in one place: the HTML report, its charts and the terminal displays format
 * a loss, an accuracy, a duration or a byte count the same way. The locale is fixed (en-US) so
 * that output does not depend on the machine that renders it.
 */

/** What the report prints where a value was not recorded. */
export const MISSING = '\u2014';

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

const isNumber = (value: number | undefined): value is number =>
  value !== undefined && Number.isFinite(value);

/** 409648 -> "409,648". */
export function formatCount(value: number | undefined): string {
  return isNumber(value) ? grouped.format(value) : MISSING;
}

/** A fraction in [0, 1] as a percentage: 0.8423 -> "84.2%". */
export function formatPercent(fraction: number | undefined, digits = 1): string {
  return isNumber(fraction) ? `${(fraction * 100).toFixed(digits)}%` : MISSING;
}

/**
 * A loss or other metric: four significant digits, trailing zeros kept so that a column of them
 * lines up ("0.5930" above "0.5517"); whole numbers from 1000; scientific when tiny or huge.
 */
export function formatMetric(value: number | undefined): string {
  if (value === undefined) return MISSING;
  if (!Number.isFinite(value)) return String(value); // NaN or Infinity: a diverged run says so.
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e9)) return value.toExponential(2);
  return magnitude >= 1000 ? grouped.format(value) : value.toPrecision(4);
}

/** 812 -> "812 ms", 3412 -> "3.4 s", 125000 -> "2 min 5 s", 3.9e6 -> "1 h 5 min". */
export function formatDuration(ms: number | undefined): string {
  if (!isNumber(ms)) return MISSING;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Decimal units, as on the chart axes: 409648 -> "409.6 kB". */
export function formatBytes(bytes: number | undefined): string {
  if (!isNumber(bytes)) return MISSING;
  const [factor, prefix] = prefixFor(Math.abs(bytes), SI);
  return factor === 1 ? `${grouped.format(bytes)} B` : `${(bytes / factor).toFixed(1)} ${prefix}B`;
}

/** The kinds of quantity an axis can show. */
export type AxisUnit = 'number' | 'percent' | 'bytes' | 'ms';

type Prefixes = readonly (readonly [factor: number, prefix: string])[];
const SI: Prefixes = [
  [1, ''],
  [1e3, 'k'],
  [1e6, 'M'],
  [1e9, 'G'],
  [1e12, 'T'],
];
const TIME: Prefixes = [
  [1, 'ms'],
  [1e3, 's'],
];

function prefixFor(magnitude: number, prefixes: Prefixes): readonly [number, string] {
  let chosen = prefixes[0] as readonly [number, string];
  for (const entry of prefixes) if (magnitude >= entry[0]) chosen = entry;
  return chosen;
}

/** The fewest decimals (at most 6) that write every value exactly. */
function decimalsFor(values: readonly number[]): number {
  for (let d = 0; d < 6; d++) {
    if (values.every((v) => Math.abs(Number(v.toFixed(d)) - v) <= Math.abs(v) * 1e-9)) return d;
  }
  return 6;
}

/**
 * Labels for an axis's ticks. One prefix for the whole axis (chosen by its largest tick) and one
 * number of decimals (the fewest that write every tick exactly), so labels line up and differ
 * only where the ticks do: [0, 0.5e6, 1e6] bytes -> "0.0 MB", "0.5 MB", "1.0 MB". Ticks that
 * span three decades or more (a log axis) are each labelled on their own: "100 B", "10 kB".
 */
export function axisLabels(ticks: readonly number[], unit: AxisUnit): string[] {
  if (unit === 'percent')
    return sameDecimals(
      ticks.map((t) => t * 100),
      '%',
    );
  const prefixes = unit === 'ms' ? TIME : SI;
  const label = (group: readonly number[]) => {
    const [factor, prefix] = prefixFor(Math.max(0, ...group.map(Math.abs)), prefixes);
    const suffix = unit === 'ms' ? ` ${prefix}` : unit === 'bytes' ? ` ${prefix}B` : prefix;
    return sameDecimals(
      group.map((t) => t / factor),
      suffix,
    );
  };
  const magnitudes = ticks.map(Math.abs).filter((t) => t > 0);
  const wide = Math.max(...magnitudes) >= 1000 * Math.min(...magnitudes);
  return wide ? ticks.map((t) => label([t])[0] as string) : label(ticks);
}

function sameDecimals(values: readonly number[], suffix: string): string[] {
  const decimals = decimalsFor(values);
  const digits = new Intl.NumberFormat('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
  // Zero is bare: "0", not "0k" or "-0".
  return values.map((v) => (v === 0 ? '0' : `${digits.format(v)}${suffix}`));
}

/** A value in a chart tooltip, in the same unit as its axis. */
export function formatValue(value: number, unit: AxisUnit): string {
  switch (unit) {
    case 'percent':
      return formatPercent(value, 2);
    case 'bytes':
      return formatBytes(value);
    case 'ms':
      return formatDuration(value);
    case 'number':
      return formatMetric(value);
  }
}
