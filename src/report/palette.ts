/**
 * Series colours: the Okabe–Ito palette, distinguishable under the common colour-vision
 * deficiencies, without its black (it is the text colour) and with yellow last (faint on white).
 * A chart element carries both its colour (a presentation attribute, so a standalone SVG file is
 * coloured) and the class `tone-<i>`, so the report's stylesheet can swap in the lighter dark-mode
 * variant below.
 */
export const TONES = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442'];

/** The same hues lightened to keep their contrast on a dark background. */
export const DARK_TONES = [
  '#5AAEE8',
  '#F2B634',
  '#2EC49C',
  '#F5823F',
  '#E59CC9',
  '#9AD3F5',
  '#F5EC6B',
];

/** Tone index for the n-th series; wraps past the palette (charts here draw at most five). */
export function tone(index: number): number {
  return index % TONES.length;
}
