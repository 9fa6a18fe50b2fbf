import { dlqUrlOutput, queueUrlOutput } from '../functions/naming';
import { FUNCTIONS, type FunctionDefinition, queueFunctions } from '../functions/registry';

/**
 * The deployed stack's resource names, from its CloudFormation outputs (serverless.yml `Outputs`,
 * each function's `<Pascal>QueueUrl` / `<Pascal>DlqUrl` generated from the registry). The
 * CloudFormation client is loaded only here, only for `--aws`.
 */
export interface StackResources {
  uploadsBucket?: string;
  thumbnailsBucket?: string;
  modelsBucket?: string;
  deliveryDlqUrl?: string;
  /** The image catalogue's DynamoDB table (output `ImagesTableName`); absent for a stack deployed before it. */
  catalogueTable?: string;
  /** Each queue-fed function's queue and DLQ, by function name. */
  functions: Record<string, { queueUrl?: string; dlqUrl?: string }>;
}

/** serverless' default stack name. */
export const stackName = (service: string, stage: string) => `${service}-${stage}`;

export function resourcesFromOutputs(
  outputs: readonly { OutputKey?: string; OutputValue?: string }[],
  functions: readonly FunctionDefinition[] = FUNCTIONS,
): StackResources {
  const byKey = new Map(outputs.map((output) => [output.OutputKey, output.OutputValue || undefined]));
  return {
    uploadsBucket: byKey.get('UploadsBucketName'),
    thumbnailsBucket: byKey.get('ThumbnailsBucketName'),
    modelsBucket: byKey.get('ModelsBucketName'),
    deliveryDlqUrl: byKey.get('DeliveryDlqUrl'),
    catalogueTable: byKey.get('ImagesTableName'),
    functions: Object.fromEntries(
      queueFunctions(functions).map((fn) => [
        fn.name,
        { queueUrl: byKey.get(queueUrlOutput(fn.name)), dlqUrl: byKey.get(dlqUrlOutput(fn.name)) },
      ]),
    ),
  };
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
