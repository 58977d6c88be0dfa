// Tests for src/cli/table.ts (named progress-* to stay within the report/progress file set).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayWidth, renderTable, sanitize, truncate } from '../../src/cli/table.js';

describe('renderTable', () => {
  it('aligns columns under a header and a rule, two spaces apart, without trailing spaces', () => {
    const table = renderTable(
      [
        { header: 'round', align: 'right' },
        { header: 'accuracy', align: 'right' },
        { header: 'note' },
      ],
      [
        ['1', '24.42%', ''],
        ['20', '88.90%', 'best'],
      ],
    );
    assert.equal(
      table,
      [
        'round  accuracy  note',
        '-----  --------  ----',
        '    1    24.42%',
        '   20    88.90%  best',
      ].join('\n'),
    );
  });

  it('sizes columns by terminal width: wide characters take two columns, combining marks none', () => {
    const table = renderTable(
      [{ header: 'id' }, { header: 'n', align: 'right' }],
      [
        ['\u5BA2\u6237', '1'],
        ['e\u0301', '2'],
      ],
    );
    assert.deepEqual(table.split('\n'), ['id    n', '----  -', '\u5BA2\u6237  1', 'e\u0301     2']);
  });

  it('keeps terminal control sequences in cells from reaching the terminal', () => {
    const table = renderTable([{ header: 'client' }], [['evil\x1b[2J\x1b]0;title\x07\nnext']]);
    assert.ok(
      [...table].every((c) => c === '\n' || (c >= ' ' && (c < '\x7f' || c > '\x9f'))),
      'no control characters but newlines',
    );
    assert.match(table, /evil\uFFFD\[2J\uFFFD\]0;title\uFFFD next/);
  });

  it('names a row with the wrong number of cells', () => {
    assert.throws(
      () => renderTable([{ header: 'a' }, { header: 'b' }], [['1', '2'], ['3']]),
      /row 1 has 1 cells, expected 2/,
    );
  });

  it('renders a header and rule for no rows', () => {
    assert.equal(renderTable([{ header: 'a' }], []), 'a\n-');
  });
});

describe('terminal text', () => {
  it('sanitizes to one inert line', () => {
    assert.equal(sanitize('a\r\nb\tc\u009bd'), 'a b c\uFFFDd');
  });

  it('measures and truncates by columns', () => {
    assert.equal(displayWidth('abc'), 3);
    assert.equal(displayWidth('\u{1F33F}x'), 3);
    assert.equal(truncate('abcdef', 4), 'abc\u2026');
    assert.equal(truncate('abc', 3), 'abc');
    assert.equal(truncate('\u5BA2\u6237\u5BA2', 4), '\u5BA2\u2026');
    assert.equal(truncate('abc', 0), '');
  });
});
