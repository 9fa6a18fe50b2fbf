import { parseAuditArgs } from '../../cli/args';
import { parseS3MessageBody } from '../../shared/events';
import type { AuditReport } from '../../shared/operations/audit';
import { plannedRepairs, repairNotification } from '../../shared/operations/repair';

/** What a repair sends: only for missing families, to the function that writes them, as S3 would have. */

type Entry = AuditReport['entries'][number];
const entry = (key: string, families: [string, Entry['status']][]): Entry => ({
  key,
  eTag: 'abc',
  lastModified: '2026-12-02T10:00:00.000Z',
  status: 'missing',
  families: families.map(([family, status]) => ({ family: family as 'thumbnails', status, detail: '' })),
});
const writers = [
  { family: 'thumbnails', functionName: 'resize', queueUrl: 'q/resize' },
  { family: 'prediction', functionName: 'predict', queueUrl: 'q/predict' },
] as const;

test('one repair per missing family; pending, dead-lettered and complete families are left alone; the limit holds', () => {
  const report = {
    entries: [
      entry('a', [
        ['thumbnails', 'missing'],
        ['prediction', 'complete'],
      ]),
      entry('b', [
        ['thumbnails', 'pending'],
        ['prediction', 'missing'],
      ]),
      entry('c', [
        ['thumbnails', 'dead-lettered'],
        ['prediction', 'missing'],
      ]),
    ],
  };
  expect(plannedRepairs(report, writers).map((r) => `${r.queueUrl}:${r.functionName}:${r.key}`)).toEqual([
    'q/resize:resize:a',
    'q/predict:predict:b',
    'q/predict:predict:c',
  ]);
  expect(plannedRepairs(report, writers, 2)).toHaveLength(2);
  // A family no function is asked to repair (outputs thumbnails only) is not planned.
  expect(plannedRepairs(report, [writers[0]])).toHaveLength(1);
});

test('the notification is the one S3 sends: it parses back to the same key and ETag, whatever the key', () => {
  for (const key of ['plain.jpg', 'my photo+1 ü (2).jpg', 'a/b/c%20d.png']) {
    const [event] = parseS3MessageBody(
      repairNotification(
        { key, eTag: 'abc', lastModified: '2026-12-02T10:00:00.000Z', family: 'thumbnails', functionName: 'resize', queueUrl: 'q/resize' },
        'uploads',
        'eu-west-1',
      ),
    );
    expect(event).toMatchObject({ kind: 'created', bucket: 'uploads', key, eTag: 'abc', eventTime: '2026-12-02T10:00:00.000Z' });
  }
});

test('--dry-run, --limit and --rate go with --repair only', () => {
  expect(parseAuditArgs(['--repair', '--dry-run', '--limit', '5', '--rate', '2'])).toMatchObject({
    repair: true,
    dryRun: true,
    limit: 5,
    rate: 2,
  });
  expect(parseAuditArgs([])).toMatchObject({ repair: false, dryRun: false, rate: 20 });
  for (const option of [['--dry-run'], ['--limit', '1'], ['--rate', '1']])
    expect(() => parseAuditArgs(option)).toThrow(/goes with --repair/);
  expect(() => parseAuditArgs(['--repair', '--limit', '0'])).toThrow(/limit/);
  expect(parseAuditArgs(['--outputs', 'prediction'])).toMatchObject({ outputs: 'prediction' });
});
