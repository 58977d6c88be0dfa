import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { d, el, escapeText, join, num, text, trusted } from '../../src/report/markup.js';

describe('escapeText', () => {
  it('escapes the five characters that matter in content and quoted attributes', () => {
    assert.equal(
      escapeText(`<a href="x" title='y'>&</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('replaces characters XML forbids, keeps tab, newline and valid surrogate pairs', () => {
    assert.equal(escapeText('a\u0000b\u001bc\ufffe'), 'a\ufffdb\ufffdc\ufffd');
    assert.equal(escapeText('\t\n\r'), '\t\n\r');
    assert.equal(escapeText('\ud83c\udf3f'), '\ud83c\udf3f');
    assert.equal(escapeText('x\ud83cy\udf3f'), 'x\ufffdy\ufffd');
  });

  it('never leaves a raw <, >, quote or an ampersand that does not start an entity', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const out = escapeText(value);
        assert.doesNotMatch(out, /[<>"']/);
        assert.doesNotMatch(out, /&(?!(amp|lt|gt|quot|#39);)/);
      }),
    );
  });
});

describe('el', () => {
  it('escapes attribute values and text, and writes numbers to two decimals', () => {
    assert.equal(
      el('text', { x: 1.23456, title: '"><script>' }, text('a < b')),
      '<text x="1.23" title="&quot;&gt;&lt;script&gt;">a &lt; b</text>',
    );
  });

  it('leaves out undefined and false attributes, writes true as a bare attribute', () => {
    assert.equal(el('td', { a: undefined, b: false, c: true }), '<td c></td>');
  });

  it('closes every element except HTML void elements, which take no children', () => {
    assert.equal(el('div'), '<div></div>');
    assert.equal(el('meta', { charset: 'utf-8' }), '<meta charset="utf-8">');
    assert.throws(() => el('meta', {}, text('x')), /cannot have children/);
  });

  it('rejects element and attribute names that would break the markup', () => {
    assert.throws(() => el('a b'), /bad element name/);
    assert.throws(() => el('a', { 'on"x': 1 }), /bad attribute name/);
  });

  it('rejects non-finite numbers instead of writing NaN', () => {
    assert.throws(() => el('rect', { x: Number.NaN }), /non-finite/);
    assert.throws(() => num(Infinity), /non-finite/);
  });

  it('joins markup and passes trusted literals through', () => {
    assert.equal(join([trusted('<b>'), text('&')], ' '), '<b> &amp;');
  });
});

describe('d (path data)', () => {
  it('rounds every interpolated number and turns -0 into 0', () => {
    assert.equal(d`M${1.005} ${-0.001}L${2 / 3} ${10}`, 'M1 0L0.67 10');
  });
});
