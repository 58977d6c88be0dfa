import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { linearScale, logScale, niceStep } from '../../src/report/scale.js';

describe('niceStep', () => {
  it('rounds up to 1, 2 or 5 times a power of ten', () => {
    assert.equal(niceStep(0.013), 0.02);
    assert.equal(niceStep(0.3), 0.5);
    assert.equal(niceStep(7.3), 10);
    assert.equal(niceStep(730), 1000);
    assert.equal(niceStep(2), 2);
  });
});

const extent = fc
  .tuple(
    fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    fc.double({ min: 0, max: 1e6, noNaN: true }),
  )
  .map(([lo, span]) => [lo, lo + span] as const);

describe('linearScale', () => {
  it('covers the data with evenly spaced, ascending, exactly written ticks', () => {
    // Counterexamples fast-check once found: tiny spans far from zero.
    const tinySpanFarFromZero = fc.constantFrom(
      [999999.9999952969, 1000000.0010000002] as const,
      [2.3514070311354974e-38, 2.3514070350050003e-38] as const,
    );
    fc.assert(
      fc.property(fc.oneof(extent, tinySpanFarFromZero), fc.boolean(), ([lo, hi], integer) => {
        const s = linearScale(lo, hi, { integer });
        const [d0, d1] = s.domain;
        assert.ok(d0 < d1);
        // Covers the data up to rounding noise: [0, 4.000000000000001] gets the domain [0, 4].
        // Noise is relative to the span, or, for a tiny span far from zero, to the values
        // themselves, which ticks write to 12 significant digits: 1000000.0010000002 (two ulps
        // above 1000000.001) may end a domain at 1000000.001.
        const noise = Math.max((d1 - d0) * 1e-9, Math.max(Math.abs(lo), Math.abs(hi)) * 1e-11);
        assert.ok(d0 <= lo + noise && hi - noise <= d1, `[${d0}, ${d1}] covers [${lo}, ${hi}]`);
        assert.ok(s.ticks.length >= 2 && s.ticks.length <= 12, `${s.ticks.length} ticks`);
        assert.equal(s.ticks[0], d0);
        assert.equal(s.ticks[s.ticks.length - 1], d1);
        const step = (s.ticks[1] as number) - (s.ticks[0] as number);
        s.ticks.forEach((t, i) => {
          // Even up to float rounding: far from zero a tiny step is a few ulps of the ticks.
          const slack = Math.max(Math.abs(step) * 1e-6, Math.abs(t) * 1e-14);
          assert.ok(Math.abs(t - (d0 + i * step)) <= slack, `tick ${i} of [${lo}, ${hi}]`);
          if (integer) assert.ok(Number.isInteger(t));
        });
        assert.equal(s.position(d0), 0);
        assert.equal(s.position(d1), 1);
      }),
    );
  });

  it('picks round ticks for typical data', () => {
    assert.deepEqual(linearScale(0.6123, 0.9012).ticks, [0.6, 0.7, 0.8, 0.9, 1]);
    assert.deepEqual(linearScale(0, 1523, { includeZero: true }).ticks, [0, 500, 1000, 1500, 2000]);
  });

  it('keeps the extent when not nice, ticking only inside it', () => {
    const s = linearScale(1, 20, { integer: true, nice: false });
    assert.deepEqual(s.domain, [1, 20]);
    assert.deepEqual(s.ticks, [5, 10, 15, 20]);
    assert.deepEqual(linearScale(0.5, 1.5, { integer: true, nice: false }).ticks, [1]);
  });

  it('widens a single value without crossing zero', () => {
    assert.deepEqual(linearScale(0, 0, { integer: true, includeZero: true }).domain, [0, 1]);
    assert.deepEqual(linearScale(3, 3, { integer: true }).domain, [2, 4]);
    const s = linearScale(0.85, 0.85);
    assert.ok(s.domain[0] < 0.85 && 0.85 < s.domain[1]);
  });

  it('rejects an empty or non-finite extent', () => {
    assert.throws(() => linearScale(2, 1), /bad extent/);
    assert.throws(() => linearScale(Number.NaN, 1), /bad extent/);
  });
});

describe('logScale', () => {
  it('ticks at 1, 2, 5 within two decades and at powers of ten beyond', () => {
    assert.deepEqual(
      logScale(10_591, 409_648).ticks,
      [10_000, 20_000, 50_000, 100_000, 200_000, 500_000],
    );
    assert.deepEqual(logScale(100, 4e6).ticks, [100, 1000, 1e4, 1e5, 1e6, 1e7]);
  });

  it('brackets a single value', () => {
    assert.deepEqual(logScale(1000, 1000).ticks, [500, 1000, 2000]);
    assert.deepEqual(logScale(3000, 3000).ticks, [2000, 5000]);
  });

  it('maps the domain ends to 0 and 1 and decades evenly', () => {
    const s = logScale(100, 4e6);
    assert.equal(s.position(100), 0);
    assert.equal(s.position(1e7), 1);
    assert.ok(Math.abs(s.position(1e4) - 0.4) < 1e-12);
  });

  it('rejects values a logarithm cannot place', () => {
    assert.throws(() => logScale(0, 10), /log scale/);
  });
});
