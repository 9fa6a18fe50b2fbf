/**
 * Names derived from a function's name: its queues and the prefix of its CloudFormation logical
 * IDs. They must never change for an existing function: CloudFormation replaces (and so empties) a
 * queue whose logical ID changes.
 */

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** `resize` -> `Resize`, `thumb-extra` -> `ThumbExtra`. */
export function pascalCase(name: string): string {
  if (!NAME.test(name)) throw new Error(`function name ${JSON.stringify(name)} must be lowercase words joined by dashes`);
  return name
    .split('-')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('');
}

/** Queue names: `<name>` and `<name>-dlq` on the local stack, prefixed with the stack name on AWS. */
export const queueName = (name: string) => name;
export const dlqName = (name: string) => `${name}-dlq`;

/** The stack outputs that name a function's queue and DLQ (what `--aws` commands read). */
export const queueUrlOutput = (name: string) => `${pascalCase(name)}QueueUrl`;
export const dlqUrlOutput = (name: string) => `${pascalCase(name)}DlqUrl`;
