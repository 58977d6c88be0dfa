/**
 * Aligned plain-text tables for terminals and logs, and the two rules terminal text needs:
 * how wide a string shows, and how to keep a string from a peer or a config (a client id, an
 * abort reason) from moving the cursor or recolouring the terminal.
 */

export interface Column {
  readonly header: string;
  /** Figures read best right-aligned (the default is left). */
  readonly align?: 'left' | 'right';
}

/** C0 and C1 controls (ESC, CSI, BEL, …) and DEL; newlines and tabs are handled first. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/g;

/** One line of inert text: line breaks and tabs become spaces, other controls U+FFFD. */
export function sanitize(value: string): string {
  return value.replace(/\r\n|[\r\n\t]/g, ' ').replace(CONTROL, '\uFFFD');
}

type Ranges = readonly (readonly [number, number])[];

/** Combining marks, zero-width characters and variation selectors: no column of their own. */
const ZERO_WIDTH: Ranges = [
  [0x0300, 0x036f],
  [0x200b, 0x200f],
  [0x20d0, 0x20ff],
  [0xfe00, 0xfe0f],
  [0xfe20, 0xfe2f],
];
/** East Asian wide and fullwidth ranges, and the common emoji blocks: two columns. */
const WIDE: Ranges = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

const within = (code: number, ranges: Ranges) =>
  ranges.some(([lo, hi]) => code >= lo && code <= hi);

/** Terminal columns a (sanitized) string occupies. */
export function displayWidth(value: string): number {
  let width = 0;
  for (const char of value) {
    const code = char.codePointAt(0) as number;
    width += within(code, ZERO_WIDTH) ? 0 : within(code, WIDE) ? 2 : 1;
  }
  return width;
}

/** The longest prefix that fits in `width` columns, with an ellipsis when something was cut. */
export function truncate(value: string, width: number): string {
  if (displayWidth(value) <= width) return value;
  if (width < 1) return '';
  let out = '';
  let used = 0;
  for (const char of value) {
    const w = displayWidth(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}\u2026`;
}

const GAP = '  ';

function pad(value: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(width - displayWidth(value));
  return align === 'right' ? fill + value : value + fill;
}

/**
 * A header, a rule of dashes, and the rows, each column as wide as its widest cell and two
 * spaces apart; no trailing spaces. Cells are sanitized. A row must have one cell per column.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
): string {
  rows.forEach((row, i) => {
    if (row.length !== columns.length) {
      throw new RangeError(`table row ${i} has ${row.length} cells, expected ${columns.length}`);
    }
  });
  const header = columns.map((c) => sanitize(c.header));
  const body = rows.map((row) => row.map(sanitize));
  const widths = columns.map((_, k) =>
    Math.max(
      displayWidth(header[k] as string),
      ...body.map((row) => displayWidth(row[k] as string)),
    ),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, k) => pad(cell, widths[k] as number, columns[k]?.align ?? 'left'))
      .join(GAP)
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
