import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface ScanOptions {
  /**
   * How long received messages stay hidden while the scan runs. Never 0 (local-aws-sqs mishandles
   * it); every message still held is made visible again (timeout 0) when the scan ends, and if the
   * process dies first they reappear by themselves after this many seconds.
   */
  visibilityTimeoutSeconds?: number;
  /**
   * 0 for the local servers (local-aws-sqs makes a long poll for several messages wait the whole
   * time); against AWS a short long poll, because a short poll samples only some servers and may
   * answer empty while messages remain.
   */
  waitTimeSeconds?: number;
  /** Receives in a row that bring no new message id before the scan counts the queue as read. */
  staleRounds?: number;
  /** Upper bound on messages read, so a huge queue cannot keep the tool going forever. */
  maxMessages?: number;
}

/** What the visitor decides for a message: keep it in the queue (the default), or it was deleted. */
export type Visit = (message: Message) => Promise<'keep' | 'deleted' | undefined>;

export interface ScanResult {
  seen: number;
  deleted: number;
  /** True when maxMessages stopped the scan before the queue was exhausted. */
  truncated: boolean;
}

const DEFAULTS = { visibilityTimeoutSeconds: 30, waitTimeSeconds: 0, staleRounds: 3, maxMessages: 100_000 };

/**
 * Reads every message of a queue without consuming it: each is received (hidden), handed to
 * `visit` once (deduplicated by MessageId), and, unless the visitor deleted it, made visible again
 * when the scan ends. Messages are held hidden until then rather than released one by one: a queue
 * hands the oldest visible messages out first, so a message released at once would be received
 * again and again and the scan would never reach the eleventh.
 */
export async function scanQueue(sqs: SQSClient, queueUrl: string, visit: Visit, options: ScanOptions = {}): Promise<ScanResult> {
  const { visibilityTimeoutSeconds, waitTimeSeconds, staleRounds, maxMessages } = { ...DEFAULTS, ...options };
  if (!(visibilityTimeoutSeconds >= 1)) throw new Error('scanQueue: visibilityTimeoutSeconds must be at least 1');
  const held = new Map<string, string>(); // MessageId -> latest receipt handle
  const visited = new Set<string>();
  let deleted = 0;
  let stale = 0;
  let truncated = false;
  try {
    while (stale < staleRounds) {
      const response = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: waitTimeSeconds,
          VisibilityTimeout: visibilityTimeoutSeconds,
          AttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = response.Messages ?? [];
      if (messages.length === 0) break;
      let fresh = 0;
      for (const message of messages) {
        const id = message.MessageId!;
        if (visited.has(id)) {
          // Seen before (its hold ran out, or a duplicate delivery): keep the newest receipt handle only.
          if (held.has(id)) held.set(id, message.ReceiptHandle!);
          continue;
        }
        fresh++;
        visited.add(id);
        held.set(id, message.ReceiptHandle!);
        const decision = await visit(message);
        if (decision === 'deleted') {
          held.delete(id);
          deleted++;
        }
      }
      stale = fresh === 0 ? stale + 1 : 0;
      if (visited.size >= maxMessages) {
        truncated = true;
        break;
      }
    }
  } finally {
    await releaseMessages(sqs, queueUrl, [...held.values()]);
  }
  return { seen: visited.size, deleted, truncated };
}

/** Makes held messages visible again. A handle that no longer works belongs to a message that is visible already. */
async function releaseMessages(sqs: SQSClient, queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
  for (let start = 0; start < receiptHandles.length; start += 10) {
    const chunk = receiptHandles.slice(start, start + 10);
    try {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle, VisibilityTimeout: 0 })),
        }),
      );
    } catch {
      // The batch call itself failed (older emulators): one by one, each failure ignored as above.
      for (const handle of chunk) {
        await sqs
          .send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }))
          .catch(() => undefined);
      }
    }
  }
}

/** Reads every message of a queue, leaving all of them in it. */
export async function peekQueue(
  sqs: SQSClient,
  queueUrl: string,
  options: ScanOptions = {},
): Promise<{ messages: Message[]; truncated: boolean }> {
  const messages: Message[] = [];
  const { truncated } = await scanQueue(sqs, queueUrl, async (message) => void messages.push(message), options);
  return { messages, truncated };
}

/** Messages waiting, in flight and delayed: anything still to be processed. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [...names] }));
  return names.reduce((sum, name) => sum + (Number(Attributes[name]) || 0), 0);
}

export async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  if (!Attributes?.QueueArn) throw new Error(`${queueUrl} reported no QueueArn`);
  return Attributes.QueueArn;
}
