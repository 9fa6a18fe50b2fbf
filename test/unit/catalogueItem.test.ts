import fc from 'fast-check';
import { decodeCursor, encodeCursor, InvalidCursorError, MAX_CURSOR_LENGTH } from '../../shared/catalogue/cursor';
import {
  type CatalogueItem,
  type CataloguePrediction,
  type CatalogueThumbnail,
  compareSequencers,
  deriveStatus,
  type MergeOutcome,
  mergeStage,
  padSequencer,
  removalAllowed,
  type StageSource,
  type StageUpdate,
} from '../../shared/catalogue/item';
import { InvalidListOptionError, listingPlan } from '../../shared/catalogue/store';
import { indexKeyAttributes } from '../../shared/catalogue/table';
import { PermanentError } from '../../shared/errors';

const STAGES = ['resize', 'predict'] as const;
const KEY = 'holiday/beach.jpg';
const T0 = new Date('2025-06-01T12:00:00.000Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const v1: StageSource = { eTag: 'aaaa1111', sequencer: '0055AED6DCD90281E5', uploadedAt: '2025-06-01T10:00:00.000Z', size: 1000 };
const v2: StageSource = { eTag: 'bbbb2222', sequencer: '0055AED6DCD90281F0', uploadedAt: '2025-06-01T10:05:00.000Z', size: 2000 };

const thumbnails = (eTag: string): CatalogueThumbnail[] => [
  { size: 512, format: 'webp', width: 512, height: 384, bytes: 20_000, key: `512/${KEY}.webp#${eTag}` },
  { size: 128, format: 'webp', width: 128, height: 96, bytes: 3_000, key: `128/${KEY}.webp#${eTag}` },
];
const prediction = (verdict: 'clean' | 'flagged' = 'clean'): CataloguePrediction => ({
  model: 'moderation/1',
  labels: [
    { label: verdict === 'flagged' ? 'Porn' : 'Neutral', score: 0.91 },
    { label: 'Drawing', score: 0.05 },
  ],
  verdict,
  flaggedBy: verdict === 'flagged' ? ['Porn'] : [],
});

const resized = (source: StageSource): StageUpdate => ({
  key: KEY,
  stage: 'resize',
  source: { ...source, format: 'jpeg', width: 4000, height: 3000 },
  result: { status: 'complete', thumbnails: thumbnails(source.eTag) },
});
const predicted = (source: StageSource, verdict: 'clean' | 'flagged' = 'clean'): StageUpdate => ({
  key: KEY,
  stage: 'predict',
  source: { ...source, format: 'jpeg' },
  result: { status: 'complete', prediction: prediction(verdict) },
});
const failed = (stage: string, source: StageSource, reason = 'corrupt'): StageUpdate => ({
  key: KEY,
  stage,
  source,
  result: { status: 'failed', reason, message: `${reason}: the bytes end early` },
});

function item(outcome: MergeOutcome): CatalogueItem {
  if (typeof outcome === 'string') throw new Error(`expected an item, got ${outcome}`);
  return outcome;
}

/** Applies updates in order, as the store does: a stale or unchanged outcome leaves the item as it was. */
function deliver(updates: readonly StageUpdate[], stages: readonly string[] = STAGES, start: CatalogueItem | undefined = undefined) {
  let current = start;
  updates.forEach((update, i) => {
    const outcome = mergeStage(current, update, stages, later(i));
    if (typeof outcome !== 'string') current = outcome;
  });
  return current;
}

/** An item without its timestamps and revision: what two deliveries must agree on. */
function content(value: CatalogueItem | undefined) {
  if (!value) return value;
  const { createdAt: _c, updatedAt: _u, revision: _r, stages, ...rest } = value;
  return { ...rest, stages: Object.fromEntries(Object.entries(stages).map(([name, { updatedAt: _s, ...state }]) => [name, state])) };
}

describe('mergeStage', () => {
  test('the first result makes a new item: the other stages pending, the sequencer padded, no verdict', () => {
    const created = item(mergeStage(undefined, resized(v1), STAGES, T0));
    expect(created).toEqual({
      key: KEY,
      source: {
        eTag: 'aaaa1111',
        sequencer: '000000000000000055AED6DCD90281E5',
        size: 1000,
        format: 'jpeg',
        width: 4000,
        height: 3000,
        uploadedAt: v1.uploadedAt,
      },
      stages: {
        resize: { status: 'complete', eTag: 'aaaa1111', parts: ['thumbnails'], updatedAt: T0.toISOString() },
        predict: { status: 'pending', eTag: 'aaaa1111', updatedAt: T0.toISOString() },
      },
      thumbnails: thumbnails('aaaa1111'),
      prediction: null,
      status: 'pending',
      listing: 'all',
      uploadedAt: v1.uploadedAt,
      createdAt: T0.toISOString(),
      updatedAt: T0.toISOString(),
      revision: 1,
    });
    expect('verdict' in created).toBe(false);
  });

  test('both stages complete for the same ETag: complete, with the verdict copied to the top level', () => {
    const done = deliver([resized(v1), predicted(v1, 'flagged')])!;
    expect(done.status).toBe('complete');
    expect(done.verdict).toBe('flagged');
    expect(done.prediction).toEqual(prediction('flagged'));
    expect(done.thumbnails).toEqual(thumbnails(v1.eTag));
    expect(done.revision).toBe(2);
    expect(done.createdAt).toBe(T0.toISOString());
    expect(done.updatedAt).toBe(later(1).toISOString());
    expect(done.stages.resize.updatedAt).toBe(T0.toISOString());
  });

  test('what one stage learned about the source is kept when another knows less', () => {
    const done = deliver([resized(v1), predicted(v1)])!;
    expect(done.source).toMatchObject({ format: 'jpeg', width: 4000, height: 3000, size: 1000 });
  });

  test('a failed stage fails the item and clears its own part, not the other stage’s', () => {
    const done = deliver([resized(v1), predicted(v1), failed('predict', v1)])!;
    expect(done.status).toBe('failed');
    expect(done.stages.predict).toMatchObject({ status: 'failed', reason: 'corrupt', message: 'corrupt: the bytes end early' });
    expect(done.prediction).toBeNull();
    expect('verdict' in done).toBe(false);
    expect(done.thumbnails).toEqual(thumbnails(v1.eTag));
    const resizeFailed = deliver([resized(v1), predicted(v1), failed('resize', v1)])!;
    expect(resizeFailed.thumbnails).toEqual([]);
    expect(resizeFailed.verdict).toBe('clean');
  });

  test('failed wins over pending: one failed stage fails the item while another has not run', () => {
    expect(item(mergeStage(undefined, failed('resize', v1, 'not-an-image'), STAGES, T0)).status).toBe('failed');
  });

  test('a newer version replaces the source, drops the other stages’ parts and makes them pending', () => {
    const done = deliver([resized(v1), predicted(v1, 'flagged'), predicted(v2)])!;
    expect(done.source).toEqual({
      eTag: v2.eTag,
      sequencer: padSequencer(v2.sequencer!),
      size: 2000,
      format: 'jpeg',
      uploadedAt: v2.uploadedAt,
    });
    expect(done.stages.resize).toMatchObject({ status: 'pending', eTag: v2.eTag });
    expect(done.thumbnails).toEqual([]);
    expect(done.verdict).toBe('clean');
    expect(done.uploadedAt).toBe(v2.uploadedAt);
    expect(done.status).toBe('pending');
    expect(done.createdAt).toBe(T0.toISOString());
  });

  test('a late result for an older version is stale, by sequencer', () => {
    const current = deliver([resized(v2)]);
    expect(mergeStage(current, predicted(v1), STAGES, T0)).toBe('stale');
    // The sequencer decides even when the clock disagrees.
    expect(mergeStage(current, predicted({ ...v1, uploadedAt: '2030-01-01T00:00:00Z' }), STAGES, T0)).toBe('stale');
  });

  test('without sequencers the upload time decides, and a tie goes to the update', () => {
    const noSeq = (source: StageSource) => ({ ...source, sequencer: undefined });
    const current = deliver([resized(noSeq(v2))]);
    expect(mergeStage(current, predicted(noSeq(v1)), STAGES, T0)).toBe('stale');
    // Only one side has a sequencer: the times decide.
    expect(mergeStage(current, predicted(v1), STAGES, T0)).toBe('stale');
    const tie = item(mergeStage(current, predicted({ ...noSeq(v1), uploadedAt: v2.uploadedAt }), STAGES, T0));
    expect(tie.source.eTag).toBe(v1.eTag);
  });

  test('a duplicate delivery is unchanged, whenever it arrives', () => {
    const current = deliver([resized(v1), predicted(v1)]);
    expect(mergeStage(current, predicted(v1), STAGES, later(3600))).toBe('unchanged');
    expect(mergeStage(current, resized(v1), STAGES, later(3600))).toBe('unchanged');
    // A quoted ETag is the same ETag.
    expect(mergeStage(current, predicted({ ...v1, eTag: `"${v1.eTag}"` }), STAGES, later(1))).toBe('unchanged');
    const failedOnce = deliver([failed('resize', v1)]);
    expect(mergeStage(failedOnce, failed('resize', v1), STAGES, later(9))).toBe('unchanged');
  });

  test('the same bytes uploaded again keep the results and move to the newer upload time', () => {
    const again = { ...v1, sequencer: '0055AED6DCD9028200', uploadedAt: '2025-06-02T00:00:00.000Z' };
    const done = deliver([resized(v1), predicted(v1), resized(again)])!;
    expect(done.status).toBe('complete');
    expect(done.uploadedAt).toBe('2025-06-02T00:00:00.000Z');
    expect(done.source.sequencer).toBe(padSequencer(again.sequencer));
    // An older event for the same bytes changes nothing.
    expect(mergeStage(done, predicted(v1), STAGES, later(60))).toBe('unchanged');
  });

  test('a stage that is not declared is refused; invalid sources are permanent invalid-event failures', () => {
    expect(() => mergeStage(undefined, { ...resized(v1), stage: 'ocr' }, STAGES, T0)).toThrow(RangeError);
    for (const source of [
      { ...v1, sequencer: 'not-hex' },
      { ...v1, uploadedAt: '' },
      { ...v1, eTag: '""' },
    ]) {
      expect(() => mergeStage(undefined, resized(source), STAGES, T0)).toThrow(PermanentError);
    }
    expect(() => mergeStage(undefined, resized({ ...v1, uploadedAt: 'yesterday' }), STAGES, T0)).toThrow(
      expect.objectContaining({ reason: 'invalid-event' }),
    );
  });

  test('the stage list is a parameter: a third stage keeps items pending until it reports', () => {
    const stages = ['resize', 'predict', 'ocr'];
    const two = deliver([resized(v1), predicted(v1)], stages)!;
    expect(two.status).toBe('pending');
    expect(two.stages.ocr).toMatchObject({ status: 'pending', eTag: v1.eTag });
    const three = deliver([{ key: KEY, stage: 'ocr', source: v1, result: { status: 'complete' } }], stages, two)!;
    expect(three.status).toBe('complete');
  });

  test('a stage declared after the item was written is pending until it reports', () => {
    const old = deliver([resized(v1), predicted(v1)])!;
    expect(deriveStatus(old, ['resize', 'predict', 'ocr'])).toBe('pending');
    const touched = item(mergeStage(old, failed('predict', v1), ['resize', 'predict', 'ocr'], later(5)));
    expect(touched.stages.ocr).toMatchObject({ status: 'pending', eTag: v1.eTag });
  });
});

describe('deriveStatus', () => {
  const at = T0.toISOString();
  const source = { eTag: 'new', uploadedAt: at };
  test.each([
    [{ resize: 'complete', predict: 'complete' }, 'complete'],
    [{ resize: 'complete', predict: 'pending' }, 'pending'],
    [{ resize: 'complete' }, 'pending'],
    [{ resize: 'failed', predict: 'pending' }, 'failed'],
    [{ resize: 'complete', predict: 'failed' }, 'failed'],
  ] as const)('%j -> %s', (states, expected) => {
    const stages = Object.fromEntries(Object.entries(states).map(([name, status]) => [name, { status, eTag: 'new', updatedAt: at }]));
    expect(deriveStatus({ source, stages }, STAGES)).toBe(expected);
  });

  test('a state for another ETag counts as pending, even a failure', () => {
    const stages = {
      resize: { status: 'complete' as const, eTag: 'new', updatedAt: at },
      predict: { status: 'failed' as const, eTag: 'old', updatedAt: at },
    };
    expect(deriveStatus({ source, stages }, STAGES)).toBe('pending');
    expect(deriveStatus({ source, stages: { ...stages, predict: { ...stages.predict, status: 'complete' } } }, STAGES)).toBe('pending');
  });
});

describe('sequencers', () => {
  test('padded to a fixed width, upper case, so strings compare like the numbers', () => {
    expect(padSequencer('ff')).toBe(`${'0'.repeat(30)}FF`);
    expect(compareSequencers('FF', '0100')).toBeLessThan(0);
    expect(compareSequencers('0100', 'ff')).toBeGreaterThan(0);
    expect(compareSequencers('00FF', 'FF')).toBe(0);
  });

  test('property: comparison agrees with the hexadecimal numbers, whatever the lengths', () => {
    const hex = fc.bigInt({ min: 0n, max: (1n << 120n) - 1n }).map((n) => n.toString(16));
    fc.assert(
      fc.property(hex, hex, fc.nat(4), (a, b, pad) => {
        const expected = Math.sign(Number(BigInt(`0x${a}`) - BigInt(`0x${b}`)));
        expect(Math.sign(compareSequencers('0'.repeat(pad) + a, b))).toBe(expected);
        const [pa, pb] = [padSequencer(a), padSequencer(b)];
        expect(Math.sign(pa < pb ? -1 : pa > pb ? 1 : 0)).toBe(expected);
      }),
    );
  });
});

describe('removalAllowed', () => {
  const current = deliver([resized(v2)])!;
  test('no item: nothing stands in the way', () => {
    expect(removalAllowed(undefined, { eventTime: v1.uploadedAt })).toBe(true);
  });
  test('by sequencer: a removal older than the recorded upload keeps it; a later one deletes it', () => {
    expect(removalAllowed(current, { sequencer: '0055AED6DCD90281E9', eventTime: '2030-01-01T00:00:00Z' })).toBe(false);
    expect(removalAllowed(current, { sequencer: '0055AED6DCD9028200', eventTime: '2000-01-01T00:00:00Z' })).toBe(true);
  });
  test('by time when either lacks a sequencer; the same instant deletes', () => {
    expect(removalAllowed(current, { eventTime: '2025-06-01T10:04:59.999Z' })).toBe(false);
    expect(removalAllowed(current, { eventTime: v2.uploadedAt })).toBe(true);
    expect(removalAllowed(current, { eventTime: '2025-06-01T11:00:00Z' })).toBe(true);
  });
});

describe('property: delivery order does not matter', () => {
  interface Version {
    source: StageSource;
    results: Partial<Record<(typeof STAGES)[number], 'complete' | 'failed'>>;
    verdict: 'clean' | 'flagged';
  }

  /** Two versions, v2 newer by both sequencer and time; each side may lack its sequencer. */
  const versions = fc
    .record({
      t1: fc.integer({ min: 0, max: 1_000_000 }),
      gap: fc.integer({ min: 1, max: 1_000_000 }),
      s1: fc.bigInt({ min: 1n, max: 1n << 64n }),
      sgap: fc.bigInt({ min: 1n, max: 1n << 32n }),
      seq1: fc.boolean(),
      seq2: fc.boolean(),
      results1: fc.record(
        { resize: fc.constantFrom('complete', 'failed'), predict: fc.constantFrom('complete', 'failed') },
        { requiredKeys: [] },
      ),
      results2: fc.record(
        { resize: fc.constantFrom('complete', 'failed'), predict: fc.constantFrom('complete', 'failed') },
        { requiredKeys: [] },
      ),
      verdicts: fc.tuple(fc.constantFrom('clean', 'flagged'), fc.constantFrom('clean', 'flagged')),
      learns: fc.array(fc.subarray(['format', 'width', 'height', 'size'] as const), { minLength: 4, maxLength: 4 }),
    })
    .filter(({ results2 }) => Object.keys(results2).length > 0)
    .map(({ t1, gap, s1, sgap, seq1, seq2, results1, results2, verdicts, learns }): [Version, Version, (typeof learns)[number][]] => {
      const time = (ms: number) => new Date(T0.getTime() + ms).toISOString();
      const version = (
        eTag: string,
        ms: number,
        sequencer: bigint | undefined,
        results: Version['results'],
        verdict: Version['verdict'],
      ) => ({
        source: { eTag, uploadedAt: time(ms), ...(sequencer === undefined ? {} : { sequencer: sequencer.toString(16).toUpperCase() }) },
        results,
        verdict,
      });
      return [
        version('e1', t1, seq1 ? s1 : undefined, results1 as Version['results'], verdicts[0] as Version['verdict']),
        version('e2', t1 + gap, seq2 ? s1 + sgap : undefined, results2 as Version['results'], verdicts[1] as Version['verdict']),
        learns,
      ];
    });

  /** One update per (version, stage) that has a result; each stage learns its own subset of the true source. */
  function updatesOf(version: Version, learns: readonly (readonly string[])[], offset: number): StageUpdate[] {
    const truth = { format: 'png', width: 640 + offset, height: 480 + offset, size: 1234 + offset };
    return STAGES.flatMap((stage, i) => {
      const status = version.results[stage];
      if (!status) return [];
      const learned = Object.fromEntries(learns[offset + i].map((field) => [field, truth[field as keyof typeof truth]]));
      const source = { ...version.source, ...learned };
      if (status === 'failed') return [failed(stage, source, 'too-many-pixels')];
      const result =
        stage === 'resize'
          ? { status: 'complete' as const, thumbnails: thumbnails(version.source.eTag) }
          : { status: 'complete' as const, prediction: prediction(version.verdict) };
      return [{ key: KEY, stage, source, result }];
    });
  }

  test('any order of the updates of two versions, with duplicates, ends as the newest version alone', () => {
    fc.assert(
      fc.property(
        versions.chain(([older, newer, learns]) => {
          const all = [...updatesOf(older, learns, 0), ...updatesOf(newer, learns, 2)];
          const alone = updatesOf(newer, learns, 2);
          // Every update at least once, some up to three times, in any order.
          return fc.array(fc.integer({ min: 1, max: 3 }), { minLength: all.length, maxLength: all.length }).chain((copies) => {
            const delivered = all.flatMap((update, i) => Array.from({ length: copies[i] }, () => update));
            return fc.tuple(fc.constant(alone), fc.shuffledSubarray(delivered, { minLength: delivered.length }));
          });
        }),
        ([alone, delivered]) => {
          expect(content(deliver(delivered))).toEqual(content(deliver(alone)));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('replaying any prefix of the deliveries again changes nothing', () => {
    fc.assert(
      fc.property(versions, fc.nat(), ([older, newer, learns], cut) => {
        const updates = [...updatesOf(older, learns, 0), ...updatesOf(newer, learns, 2)];
        const final = deliver(updates)!;
        const replayed = updates.slice(0, cut % (updates.length + 1));
        for (const update of replayed) expect(['stale', 'unchanged']).toContain(mergeStage(final, update, STAGES, later(99)));
      }),
    );
  });
});

describe('cursor', () => {
  const scope = { listing: '["byStatus","complete",null,null]', attributes: indexKeyAttributes('byStatus'), fixed: { status: 'complete' } };
  const startKey = { key: 'holiday/beach.jpg', status: 'complete', uploadedAt: '2025-06-01T10:00:00.000Z' };
  const reason = (cursor: string, inScope = scope) => {
    try {
      decodeCursor(cursor, inScope);
    } catch (error) {
      if (error instanceof InvalidCursorError) return error.reason;
      throw error;
    }
    return 'accepted';
  };
  const envelope = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const tag = JSON.parse(Buffer.from(encodeCursor(startKey, scope), 'base64url').toString()).l;

  test('property: any start key survives encoding, as an opaque URL-safe string', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }),
        fc.date({ noInvalidDate: true, min: new Date(0), max: new Date('2100-01-01') }),
        (key, date) => {
          const start = { key, status: 'complete', uploadedAt: date.toISOString() };
          const cursor = encodeCursor(start, scope);
          expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(decodeCursor(cursor, scope)).toEqual(start);
        },
      ),
    );
  });

  test('a cursor of another listing is refused', () => {
    const other = { listing: '["byStatus","complete",null,"a/"]', attributes: scope.attributes, fixed: scope.fixed };
    expect(reason(encodeCursor(startKey, scope), other)).toBe('other-listing');
  });

  test.each([
    ['empty', 'malformed', ''],
    ['not base64url', 'malformed', 'abc+/='],
    ['too long', 'malformed', 'A'.repeat(MAX_CURSOR_LENGTH + 1)],
    ['not JSON', 'malformed', Buffer.from('{nope').toString('base64url')],
    ['JSON but no envelope', 'malformed', envelope([1, 2, 3])],
    ['another version', 'unsupported-version', envelope({ v: 2, l: 'x', k: startKey })],
    ['an extra attribute', 'bad-key', envelope({ v: 1, l: tag, k: { ...startKey, revision: '1' } })],
    ['a missing attribute', 'bad-key', envelope({ v: 1, l: tag, k: { key: 'a', status: 'complete' } })],
    ['a number for a string', 'bad-key', envelope({ v: 1, l: tag, k: { ...startKey, uploadedAt: 5 } })],
    ['a DynamoDB attribute value', 'bad-key', envelope({ v: 1, l: tag, k: { ...startKey, key: { S: 'a' } } })],
    ['another partition', 'bad-key', envelope({ v: 1, l: tag, k: { ...startKey, status: 'failed' } })],
    ['an oversized key', 'bad-key', envelope({ v: 1, l: tag, k: { ...startKey, key: 'x'.repeat(1025) } })],
    ['a prototype key', 'bad-key', envelope({ v: 1, l: tag, k: JSON.parse('{"__proto__":{"a":1},"key":"a","status":"complete"}') })],
  ])('%s is refused as %s', (_name, expected, cursor) => {
    expect(reason(cursor)).toBe(expected);
  });

  test('property: garbage is refused with an InvalidCursorError, never anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.base64String(),
          fc.json().map((json) => Buffer.from(json).toString('base64url')),
        ),
        (garbage) => {
          expect(reason(garbage)).not.toBe('accepted');
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('listingPlan', () => {
  test('status first, then verdict, then everything; the rest filter', () => {
    expect(listingPlan({ status: 'failed', verdict: 'flagged', prefix: 'a/' })).toMatchObject({
      index: 'byStatus',
      filtered: true,
      query: { IndexName: 'byStatus', FilterExpression: '#verdict = :verdict AND begins_with(#key, :prefix)', ScanIndexForward: false },
    });
    expect(listingPlan({ verdict: 'clean' })).toMatchObject({ index: 'byVerdict', filtered: false });
    expect(listingPlan({})).toMatchObject({ index: 'byUpload', filtered: false, scope: { fixed: { listing: 'all' } } });
  });

  test.each([
    [{ status: 'ready' }, 'status'],
    [{ verdict: 'nsfw' }, 'verdict'],
    [{ prefix: '' }, 'prefix'],
  ])('%j is refused naming %s', (options, option) => {
    expect(() => listingPlan(options as never)).toThrow(InvalidListOptionError);
    expect(() => listingPlan(options as never)).toThrow(new RegExp(`^${option}: `));
  });
});
