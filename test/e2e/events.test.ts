import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { SAMPLE_OBJECTS, SAMPLES_DIR } from '../../local/samples';
import { parseS3MessageBody } from '../../shared/events';

/** The sample events must stay replayable: real SQS shape, and sizes/ETags of the seeded samples. */

const EVENTS_DIR = path.resolve(__dirname, '../../events');
const eventFiles = readdirSync(EVENTS_DIR).filter((file) => file.endsWith('.json'));
const load = (file: string): SQSEvent => JSON.parse(readFileSync(path.join(EVENTS_DIR, file), 'utf8'));
const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

test('the expected sample events exist', () => {
  expect(eventFiles.sort()).toEqual([
    'resize-sqs-batch-with-poison.json',
    'resize-sqs-special-key.json',
    'resize-sqs.json',
    's3-test-event.json',
  ]);
});

test.each(eventFiles)('%s is an SQS event as Lambda delivers it from the resize queue', (file) => {
  const event = load(file);
  expect(event.Records.length).toBeGreaterThan(0);
  for (const record of event.Records) {
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:resize',
      awsRegion: 'us-east-1',
    });
    expect(record.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(record.md5OfBody).toBe(md5(record.body));
  }
  expect(new Set(event.Records.map((record) => record.messageId)).size).toBe(event.Records.length);
});

test.each(eventFiles.filter((file) => file !== 's3-test-event.json'))('%s names seeded samples with their real size and ETag', (file) => {
  for (const record of load(file).Records) {
    for (const object of parseS3MessageBody(record.body)) {
      const sample = SAMPLE_OBJECTS.find((candidate) => candidate.key === object.key);
      expect(sample).toBeDefined();
      const data = readFileSync(path.join(SAMPLES_DIR, sample!.file));
      expect({ bucket: object.bucket, size: object.size, eTag: object.eTag }).toEqual({
        bucket: 'uploads',
        size: data.length,
        eTag: md5(data),
      });
    }
  }
});

test('the special-key event carries the key encoded as AWS does', () => {
  const body = JSON.parse(load('resize-sqs-special-key.json').Records[0].body);
  expect(body.Records[0].s3.object.key).toBe('samples/my+photo%2B1+%C3%BC.jpg');
  expect(parseS3MessageBody(load('resize-sqs-special-key.json').Records[0].body)[0].key).toBe('samples/my photo+1 ü.jpg');
});

test('the test event is the s3:TestEvent, which the functions skip', () => {
  const body = load('s3-test-event.json').Records[0].body;
  expect(JSON.parse(body)).toMatchObject({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'uploads' });
  expect(parseS3MessageBody(body)).toEqual([]);
});

test('the poison batch holds one good and one corrupt image', () => {
  const keys = load('resize-sqs-batch-with-poison.json').Records.flatMap((record) =>
    parseS3MessageBody(record.body).map((object) => object.key),
  );
  expect(keys).toEqual(['samples/landscape.jpg', 'samples/corrupt.png']);
});
