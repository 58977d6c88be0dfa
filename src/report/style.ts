/**
 * The report's stylesheet. Light and dark follow the reader's system setting; print is always
 * light, one chart per row on paper that is narrow. Series colours come from palette.ts so the
 * charts and this file cannot disagree.
 */
import { DARK_TONES, TONES } from './palette.js';

const tones = (palette: readonly string[]) =>
  palette.map((colour, i) => `--tone-${i}: ${colour};`).join(' ');

const LIGHT = `--bg: #ffffff; --fg: #1f2328; --muted: #59636e; --border: #d1d9e0; --surface: #f6f8fa; --accent: #0969da; --warn: #9a6700; ${tones(TONES)}`;
const DARK = `--bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --border: #3d444d; --surface: #151b23; --accent: #4493f8; --warn: #d29922; ${tones(DARK_TONES)}`;

export const STYLESHEET = `
:root { color-scheme: light dark; ${LIGHT} }
@media (prefers-color-scheme: dark) { :root { ${DARK} } }
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
  -webkit-font-smoothing: antialiased;
}
main { max-width: 1180px; margin: 0 auto; padding: 32px 24px 48px; }
header { border-bottom: 1px solid var(--border); padding-bottom: 16px; margin-bottom: 8px; }
.eyebrow { margin: 0; color: var(--muted); font-size: 13px; letter-spacing: .06em; text-transform: uppercase; }
h1 { margin: 4px 0 6px; font-size: 28px; line-height: 1.2; font-weight: 650; overflow-wrap: anywhere; }
h2 { margin: 36px 0 12px; font-size: 19px; font-weight: 620; }
.meta { margin: 0; color: var(--muted); font-size: 14px; }
.meta span + span::before { content: "\\00b7"; margin: 0 .5em; }
.notes { margin: 12px 0 0; padding-left: 1.2em; color: var(--fg); }
.notes li { margin: 2px 0; overflow-wrap: anywhere; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(240px, 100%), 1fr)); gap: 12px; margin: 0; }
.tile { margin: 0; padding: 12px 14px; border: 1px solid var(--border); border-radius: 8px; background: var(--surface); }
.tile dt { color: var(--muted); font-size: 13px; }
.tile dd { margin: 2px 0 0; font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile dd small { display: block; margin-top: 2px; color: var(--muted); font-size: 12.5px; font-weight: 400; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(440px, 100%), 1fr)); gap: 16px; }
figure.chart-card { margin: 0; padding: 8px; border: 1px solid var(--border); border-radius: 8px; background: var(--bg); }
svg.chart { display: block; width: 100%; height: auto; font-family: inherit; overflow: visible; }
svg.chart .marker { stroke: var(--bg); }
${TONES.map((_, i) => `.tone-${i} { color: var(--tone-${i}); }`).join('\n')}
.table-scroll { overflow-x: auto; border: 1px solid var(--border); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--border); }
th { background: var(--surface); color: var(--muted); font-weight: 600; position: sticky; top: 0; }
thead tr.group th[colspan] { text-align: center; border-bottom: 0; padding-bottom: 0; }
th.text, td.text { text-align: left; }
tbody tr:last-child td { border-bottom: 0; }
tr.has-note td { border-bottom: 0; }
tr.note td { padding-top: 0; color: var(--muted); font-size: 0.95em; white-space: normal; overflow-wrap: anywhere; }
tr.note.aborted td { color: var(--warn); }
tr.initial td { color: var(--muted); font-style: italic; }
.missing { color: var(--muted); }
pre.config { margin: 0; padding: 14px 16px; overflow: auto; max-height: 480px; background: var(--surface); border: 1px solid var(--border); border-radius: 8px; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
@media print {
  :root { color-scheme: light; ${LIGHT} }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  .tiles { grid-template-columns: repeat(4, 1fr); gap: 8px; }
  .tile { padding: 8px 10px; }
  .tile dd { font-size: 14pt; }
  .charts { grid-template-columns: 1fr 1fr; gap: 10px; }
  table { font-size: 7.5pt; }
  th, td { padding: 3px 4px; }
  th { white-space: normal; }
  figure.chart-card, .tile, tr { break-inside: avoid; }
  tr.has-note { break-after: avoid; }
  h2 { break-after: avoid; }
  .table-scroll, pre.config { overflow: visible; max-height: none; }
  pre.config { white-space: pre-wrap; }
  th { position: static; }
}
`;
