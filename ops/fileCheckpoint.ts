import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Checkpoint, type CheckpointStore, parseCheckpoint } from '../shared/operations/reconcile';

/**
 * The reconciler's checkpoint for a local pass (`pipeline reconcile`): a file in the stack's state
 * folder, written to a temporary file and renamed so a crash never leaves half of it. A missing or
 * unreadable file starts a new pass, as an SSM parameter holding `{}` does on AWS.
 */
export function fileCheckpointStore(file: string): CheckpointStore {
  return {
    async read(): Promise<Checkpoint> {
      try {
        return parseCheckpoint(readFileSync(file, 'utf8'));
      } catch {
        return parseCheckpoint(undefined);
      }
    },
    async write(checkpoint: Checkpoint): Promise<void> {
      mkdirSync(path.dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`);
      renameSync(temporary, file);
    },
  };
}
