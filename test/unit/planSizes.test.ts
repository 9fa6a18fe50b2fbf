import fc from 'fast-check';
import { planSizes } from '../../shared/image/plan';

describe('planSizes', () => {
  test('fits the longest edge to each size, largest first', () => {
    expect(planSizes(4000, 3000, [256, 1024, 512])).toEqual([
      { size: 1024, width: 1024, height: 768 },
      { size: 512, width: 512, height: 384 },
      { size: 256, width: 256, height: 192 },
    ]);
  });

  test('portrait images fit on their height', () => {
    expect(planSizes(1200, 1800, [256])).toEqual([{ size: 256, width: 171, height: 256 }]);
  });

  test('never enlarges', () => {
    expect(planSizes(300, 200, [256, 512])).toEqual([
      { size: 512, width: 300, height: 200 },
      { size: 256, width: 256, height: 171 },
    ]);
  });

  test('extreme aspect ratios keep at least one pixel', () => {
    expect(planSizes(20000, 1, [256])).toEqual([{ size: 256, width: 256, height: 1 }]);
  });

  test('rejects impossible dimensions', () => {
    expect(() => planSizes(0, 10, [256])).toThrow(RangeError);
  });

  test('property: every output fits its box, keeps the aspect ratio within rounding, and never exceeds the source', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60000 }),
        fc.integer({ min: 1, max: 60000 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 5 }),
        (w, h, sizes) => {
          for (const planned of planSizes(w, h, sizes)) {
            expect(Math.max(planned.width, planned.height)).toBeLessThanOrEqual(Math.max(planned.size, 1));
            expect(planned.width).toBeLessThanOrEqual(w);
            expect(planned.height).toBeLessThanOrEqual(h);
            if (planned.width > 1 && planned.height > 1) {
              expect(Math.abs(planned.width / planned.height - w / h)).toBeLessThanOrEqual(
                (w / h) * (1 / Math.min(planned.width, planned.height)) + 1e-9,
              );
            }
          }
        },
      ),
    );
  });
});
