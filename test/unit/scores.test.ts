import fc from 'fast-check';
import { softmax, topK } from '../../shared/predict/scores';

describe('softmax', () => {
  test('matches the hand computation', () => {
    const out = softmax([1, 2, 3]);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const sum = e[0] + e[1] + e[2];
    for (const [i, value] of e.entries()) expect(out[i]).toBeCloseTo(value / sum, 6);
  });

  test('property: a probability vector, stable for huge logits', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 50 }), (logits) => {
        const out = softmax(logits);
        expect(out.every((p) => p >= 0 && p <= 1)).toBe(true);
        expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      }),
    );
  });
});

describe('topK', () => {
  test('highest first, limited to k, ties in label order', () => {
    expect(topK([0.1, 0.4, 0.1, 0.4], ['a', 'b', 'c', 'd'], 3)).toEqual([
      { label: 'b', score: 0.4 },
      { label: 'd', score: 0.4 },
      { label: 'a', score: 0.1 },
    ]);
  });

  test('k larger than the label count returns every label', () => {
    expect(topK([0.3, 0.7], ['x', 'y'], 10).map((entry) => entry.label)).toEqual(['y', 'x']);
  });

  test('refuses scores that do not match the labels', () => {
    expect(() => topK([1, 2, 3], ['a', 'b'], 1)).toThrow(/3 scores for 2 labels/);
  });
});
