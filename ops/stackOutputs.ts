/**
 * The deployed stack's resource names, from its CloudFormation outputs (serverless.yml `Outputs`).
 * The CloudFormation client is loaded only here, only for `--aws`.
 */
export const STACK_OUTPUTS = {
  uploadsBucket: 'UploadsBucketName',
  thumbnailsBucket: 'ThumbnailsBucketName',
  resizeQueueUrl: 'ResizeQueueUrl',
  resizeDlqUrl: 'ResizeDlqUrl',
  predictQueueUrl: 'PredictQueueUrl',
  predictDlqUrl: 'PredictDlqUrl',
  deliveryDlqUrl: 'DeliveryDlqUrl',
} as const;

export type StackResources = Partial<Record<keyof typeof STACK_OUTPUTS, string>>;

/** serverless' default stack name. */
export const stackName = (service: string, stage: string) => `${service}-${stage}`;

export function resourcesFromOutputs(outputs: readonly { OutputKey?: string; OutputValue?: string }[]): StackResources {
  const byKey = new Map(outputs.map((output) => [output.OutputKey, output.OutputValue]));
  const resources: StackResources = {};
  for (const [name, outputKey] of Object.entries(STACK_OUTPUTS) as [keyof typeof STACK_OUTPUTS, string][]) {
    const value = byKey.get(outputKey);
    if (value) resources[name] = value;
  }
  return resources;
}

export async function describeStackResources(name: string): Promise<StackResources> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const client = new CloudFormationClient({});
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: name }));
    if (Stacks.length === 0) throw new Error(`CloudFormation stack ${name} not found`);
    return resourcesFromOutputs(Stacks[0].Outputs ?? []);
  } finally {
    client.destroy();
  }
}
