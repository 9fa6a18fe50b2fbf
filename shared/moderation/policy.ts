import type { LabelScore } from '../predict/scores';

/**
 * The moderation policy: an upload is flagged when any label's score reaches its threshold. Pure,
 * so the predict function, the CLI and the tests judge alike.
 */

export const MODERATION_ACTIONS = ['blur'] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

export interface ModerationPolicy {
  /** Label -> threshold in (0, 1]; empty when moderation is off. */
  flag: Record<string, number>;
  /** What happens to a flagged upload's thumbnails. */
  action: ModerationAction;
}

export type Verdict = 'flagged' | 'clean';

export interface Moderation {
  verdict: Verdict;
  flaggedBy: { label: string; score: number; threshold: number }[];
  /** The policy that produced the verdict; not applicable when the model has none of its labels (or it is off). */
  policy: ModerationPolicy & { applicable: boolean };
}

/** Judges every label's score (not only the top k) against the policy. */
export function moderate(scores: readonly LabelScore[], policy: ModerationPolicy): Moderation {
  const applicable = scores.some(({ label }) => label in policy.flag);
  const flaggedBy = scores
    .filter(({ label, score }) => label in policy.flag && score >= policy.flag[label])
    .map(({ label, score }) => ({ label, score, threshold: policy.flag[label] }));
  return { verdict: flaggedBy.length > 0 ? 'flagged' : 'clean', flaggedBy, policy: { ...policy, applicable } };
}
