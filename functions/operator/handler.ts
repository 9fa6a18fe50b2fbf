import { httpHandler } from '../../shared/api/lambdaAdapter';
import { createOperatorApp } from '../../shared/api/operatorApp';
import { createS3Client, createSqsClient } from '../../shared/clients';
import { loadConfig, requireSetting } from '../../shared/config';
import { dlqUrlVariable, ENV, queueUrlVariable } from '../../shared/environment';
import { createObservability } from '../../shared/observability';
import { createOperations } from '../../shared/operations/operator';
import { queueFunctions } from '../registry';

const config = loadConfig();
const observability = createObservability('operator');
const { logger, tracer } = observability;
const env = process.env;
const queues = [
  ...queueFunctions().map((fn) => ({
    name: fn.name,
    queueUrl: requireSetting(env[queueUrlVariable(fn.name)], queueUrlVariable(fn.name)),
    dlqUrl: requireSetting(env[dlqUrlVariable(fn.name)], dlqUrlVariable(fn.name)),
    families: fn.outputs,
  })),
  { name: 'delivery', dlqUrl: requireSetting(env[ENV.deliveryDlqUrl], ENV.deliveryDlqUrl), families: [] },
];
const operations = createOperations({
  sqs: tracer.captureAWSv3Client(createSqsClient()),
  s3: tracer.captureAWSv3Client(createS3Client()),
  config,
  queues,
  // Emulators: local-aws-sqs makes a long poll for several messages wait its whole time.
  scan: env[ENV.sqsEndpoint] ? { waitTimeSeconds: 0 } : undefined,
});

export const handler = httpHandler(createOperatorApp({ config: config.api, operations, logger }), observability);
