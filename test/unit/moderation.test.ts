import { declaredConfig, loadConfig, parseModerationFlag } from '../../shared/config';
import { ConfigError } from '../../shared/errors';
import { moderate } from '../../shared/moderation/policy';

const scores = (values: Record<string, number>) => Object.entries(values).map(([label, score]) => ({ label, score }));
const policy = { flag: { Porn: 0.8, Hentai: 0.8, Sexy: 0.9 }, action: 'blur' as const };

describe('moderate', () => {
  test('flagged by every label at or over its threshold, with score and threshold', () => {
    const result = moderate(scores({ Drawing: 0.01, Hentai: 0.02, Neutral: 0.05, Porn: 0.8, Sexy: 0.12 }), policy);
    expect(result).toEqual({
      verdict: 'flagged',
      flaggedBy: [{ label: 'Porn', score: 0.8, threshold: 0.8 }],
      policy: { ...policy, applicable: true },
    });
    expect(moderate(scores({ Porn: 0.85, Sexy: 0.95, Neutral: 0 }), policy).flaggedBy.map((f) => f.label)).toEqual(['Porn', 'Sexy']);
  });

  test('clean just under every threshold', () => {
    const result = moderate(scores({ Drawing: 0.1, Hentai: 0.79, Neutral: 0.2, Porn: 0.7999, Sexy: 0.8999 }), policy);
    expect(result.verdict).toBe('clean');
    expect(result.flaggedBy).toEqual([]);
    expect(result.policy.applicable).toBe(true);
  });

  test('a model without the policy labels is clean, with the policy marked not applicable', () => {
    const result = moderate(scores({ circle: 0.99, square: 0.01 }), policy);
    expect(result).toEqual({ verdict: 'clean', flaggedBy: [], policy: { ...policy, applicable: false } });
  });

  test('off flags nothing', () => {
    expect(moderate(scores({ Porn: 1 }), { flag: {}, action: 'blur' })).toMatchObject({ verdict: 'clean', policy: { applicable: false } });
  });
});

describe('the moderation settings', () => {
  test('defaults from pipeline.config.json: Porn and Hentai at 0.8, Sexy at 0.9, blur', () => {
    expect(loadConfig({}).moderation).toEqual({ flag: { Porn: 0.8, Hentai: 0.8, Sexy: 0.9 }, action: 'blur' });
    expect(declaredConfig.moderation.action).toBe('blur');
  });

  test('MODERATION_FLAG replaces the thresholds, or turns moderation off', () => {
    expect(loadConfig({ MODERATION_FLAG: 'Drawing=0.5' }).moderation.flag).toEqual({ Drawing: 0.5 });
    expect(loadConfig({ MODERATION_FLAG: ' Porn = 0.7 , Sexy=1 ' }).moderation.flag).toEqual({ Porn: 0.7, Sexy: 1 });
    expect(loadConfig({ MODERATION_FLAG: 'off' }).moderation.flag).toEqual({});
    expect(loadConfig({ MODERATION_FLAG: 'OFF' }).moderation.flag).toEqual({});
  });

  test.each([
    ['Porn', /expected off or Label=threshold/],
    ['Porn=', /Porn: expected a number above 0 and up to 1/],
    ['Porn=0', /expected a number above 0 and up to 1, got "0"/],
    ['Porn=1.5', /got "1.5"/],
    ['Porn=high', /got "high"/],
    ['Porn=0.8,Porn=0.9', /label Porn is given twice/],
    ['=0.5', /expected off or Label=threshold/],
    ['', /expected off or Label=threshold/],
  ])('MODERATION_FLAG=%j is refused at cold start, naming the setting', (raw, message) => {
    expect(() => loadConfig({ MODERATION_FLAG: raw })).toThrow(ConfigError);
    expect(() => loadConfig({ MODERATION_FLAG: raw })).toThrow(/MODERATION_FLAG/);
    expect(() => loadConfig({ MODERATION_FLAG: raw })).toThrow(message);
  });

  test('MODERATION_ACTION must be a known action', () => {
    expect(() => loadConfig({ MODERATION_ACTION: 'delete' })).toThrow(/MODERATION_ACTION: expected one of blur, got "delete"/);
  });

  test('the file form is checked like the variable', () => {
    expect(() => parseModerationFlag('moderation.flag', { Porn: 2 })).toThrow(
      /moderation.flag Porn: expected a number above 0 and up to 1, got 2/,
    );
  });
});
