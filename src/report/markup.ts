/**
 * Markup built from escaped parts. `Markup` is a branded string: the only ways to make one are
 * `text` (escapes), `el` (escapes every attribute value and accepts only Markup children) and
 * `trusted` (a literal this package wrote itself). So a user-controlled string (a config value,
 * a note, a client id) cannot reach the HTML or SVG output unescaped without a visible
 * `trusted(...)` at the call site. The same builder writes HTML and SVG.
 */

declare const brand: unique symbol;
export type Markup = string & { readonly [brand]: 'Markup' };

export type AttrValue = string | number | boolean | undefined;
export type Attrs = Readonly<Record<string, AttrValue>>;

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Characters XML 1.0 forbids (C0 controls other than tab, newline and carriage return, lone
 * surrogates, U+FFFE/U+FFFF): a standalone SVG holding one does not parse, so they become U+FFFD.
 */
const NOT_XML =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Safe as element content and inside single- or double-quoted attribute values. */
export function escapeText(value: string): string {
  return value.replace(NOT_XML, '\uFFFD').replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

export function text(value: string): Markup {
  return escapeText(value) as Markup;
}

/** Markup this package wrote as a literal (a stylesheet, a doctype); never user input. */
export function trusted(literal: string): Markup {
  return literal as Markup;
}

export function join(parts: readonly Markup[], separator = ''): Markup {
  return parts.join(separator) as Markup;
}

/** HTML elements without an end tag; every other element gets one (`<div/>` opens a div in HTML). */
const VOID = new Set(['meta', 'br', 'hr', 'col', 'wbr', 'link']);
const NAME = /^[a-zA-Z][a-zA-Z0-9:-]*$/;

/**
 * A number as written into markup: two decimals (sub-pixel enough, and the output stays small
 * and stable). A non-finite number is a bug in the caller and throws rather than writing "NaN".
 */
export function num(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`non-finite number in markup: ${value}`);
  return String(Math.round(value * 100) / 100 || 0);
}

/** SVG path data with every interpolated number written by `num`: d`M${x} ${y}`. */
export function d(strings: TemplateStringsArray, ...values: readonly number[]): string {
  return strings.reduce((out, part, i) => out + num(values[i - 1] as number) + part);
}

function attrValue(value: string | number): string {
  return typeof value === 'string' ? escapeText(value) : num(value);
}

/**
 * `<name attrs>children</name>`. Undefined and false attributes are left out; true writes a
 * bare attribute. Element and attribute names are package constants; they are checked anyway so
 * that a mistake fails loudly instead of writing broken markup.
 */
export function el(name: string, attrs: Attrs = {}, ...children: readonly Markup[]): Markup {
  if (!NAME.test(name)) throw new RangeError(`bad element name ${JSON.stringify(name)}`);
  let open = `<${name}`;
  for (const [key, value] of Object.entries(attrs)) {
    if (!NAME.test(key)) throw new RangeError(`bad attribute name ${JSON.stringify(key)}`);
    if (value === undefined || value === false) continue;
    open += value === true ? ` ${key}` : ` ${key}="${attrValue(value)}"`;
  }
  if (VOID.has(name)) {
    if (children.length > 0) throw new RangeError(`<${name}> cannot have children`);
    return `${open}>` as Markup;
  }
  return `${open}>${children.join('')}</${name}>` as Markup;
}
