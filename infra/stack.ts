import path from 'node:path';
import { declaredConfig } from '../shared/config';
import type { InfraConfig, StackContext } from './context';
import { isLocal } from './context';
import { type LocalPorts, readLocalPorts } from './localState';

/** Where the shims (infra/*.js) get the stage's settings from: the framework's own variable resolvers. */

export interface Resolvers {
  resolveVariable(variable: string): Promise<unknown>;
  resolveConfigurationProperty(keys: string[]): Promise<unknown>;
}

type Env = Record<string, string | undefined>;

export const ROOT = path.resolve(__dirname, '..');

export const config: InfraConfig & { local: { s3Port: number; sqsPort: number; stateDir: string } } = declaredConfig;

/** `<PIPELINE_STATE_DIR or local.stateDir>/state.json`, as `npm start` writes it. */
export const localStateFile = (env: Env = process.env, root = ROOT) =>
  path.resolve(root, env.PIPELINE_STATE_DIR || config.local.stateDir, 'state.json');

/** The local stack's ports: from its state file when `npm start` wrote one, else pipeline.config.json's. */
export const localPorts = (env: Env = process.env, root = ROOT): LocalPorts =>
  readLocalPorts(localStateFile(env, root), { s3Port: config.local.s3Port, sqsPort: config.local.sqsPort });

const text = (value: unknown, what: string): string => {
  if (typeof value !== 'string') throw new Error(`${what} resolved to ${JSON.stringify(value)}, expected a string`);
  return value;
};

export async function stackContext(resolvers: Resolvers, env: Env = process.env): Promise<StackContext> {
  const service = text(await resolvers.resolveConfigurationProperty(['service']), 'service');
  const stage = text(await resolvers.resolveVariable('sls:stage'), 'sls:stage');
  const logLevel = text(await resolvers.resolveVariable('param:logLevel'), 'param:logLevel');
  const modelUriParameter = text(await resolvers.resolveVariable('param:modelUriParameter'), 'param:modelUriParameter');
  const stageEnvironment = (await resolvers.resolveVariable('param:stageEnvironment')) as Record<string, unknown> | null;
  const traceEnabled = text(stageEnvironment?.POWERTOOLS_TRACE_ENABLED, 'param:stageEnvironment.POWERTOOLS_TRACE_ENABLED');
  const context: StackContext = {
    service,
    stage,
    logLevel,
    modelUriParameter,
    traceEnabled,
    localPorts: { s3Port: config.local.s3Port, sqsPort: config.local.sqsPort },
  };
  // Only the local stage looks at a running local stack.
  if (isLocal(context)) context.localPorts = localPorts(env);
  return context;
}
