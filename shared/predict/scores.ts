export interface LabelScore {
  label: string;
  score: number;
}

/** Numerically stable softmax (subtracts the maximum before exponentiating). */
export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** The k best labels, highest score first; ties keep the label order of the manifest. */
export function topK(scores: ArrayLike<number>, labels: readonly string[], k: number): LabelScore[] {
  if (scores.length !== labels.length) throw new RangeError(`the model returned ${scores.length} scores for ${labels.length} labels`);
  return Array.from(scores, (score, index) => ({ label: labels[index], score, index }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, k)
    .map(({ label, score }) => ({ label, score: Number(score.toFixed(6)) }));
}
