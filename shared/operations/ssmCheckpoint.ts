import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { type Checkpoint, type CheckpointStore, parseCheckpoint } from './reconcile';

/**
 * The reconciler's checkpoint in an SSM parameter of the stack (Standard tier: free, 4 KB, enough
 * for any S3 key): one GetParameter and one PutParameter per run. A parameter not there yet (or
 * holding `{}`, as the stack creates it) starts a pass from the first key.
 */
export function ssmCheckpointStore(ssm: SSMClient, name: string): CheckpointStore {
  return {
    async read(): Promise<Checkpoint> {
      try {
        const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
        return parseCheckpoint(Parameter?.Value);
      } catch (error) {
        if ((error as Error).name === 'ParameterNotFound') return parseCheckpoint(undefined);
        throw error;
      }
    },
    async write(checkpoint: Checkpoint): Promise<void> {
      await ssm.send(new PutParameterCommand({ Name: name, Value: JSON.stringify(checkpoint), Type: 'String', Overwrite: true }));
    },
  };
}
