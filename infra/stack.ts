import path from 'node:path';
import { type LocalPorts, localPorts as portsOf } from '../local/endpoints';
import { readStackState, stateDirectory } from '../local/stackState';
import { declaredConfig } from '../shared/config';
import type { InfraConfig, StackContext } from './context';
import { isLocal } from './context';

/** Where the shims (infra/*.js) get the stage's settings from: the framework's own variable resolvers. */

export interface Resolvers {
  resolveVariable(variable: string): Promise<unknown>;
  resolveConfigurationProperty(keys: string[]): Promise<unknown>;
}

type Env = Record<string, string | undefined>;

export const ROOT = path.resolve(__dirname, '..');

export const config: InfraConfig & { local: { stateDir: string } } = declaredConfig;

/**
 * The local stack's ports, as the CLI finds them: S3_PORT / SQS_PORT, else the state file of the
 * running `npm start`, else pipeline.config.json's.
 */
export const localPorts = (env: Env = process.env, root = ROOT): LocalPorts => portsOf(env, readStackState(stateDirectory(env, root)));

const text = (value: unknown, what: string): string => {
  if (typeof value !== 'string') throw new Error(`${what} resolved to ${JSON.stringify(value)}, expected a string`);
  return value;
};

export async function stackContext(resolvers: Resolvers, env: Env = process.env): Promise<StackContext> {
  const service = text(await resolvers.resolveConfigurationProperty(['service']), 'service');
  const stage = text(await resolvers.resolveVariable('sls:stage'), 'sls:stage');
  const logLevel = text(await resolvers.resolveVariable('param:logLevel'), 'param:logLevel');
  const modelUriParameter = text(await resolvers.resolveVariable('param:modelUriParameter'), 'param:modelUriParameter');
  const jwtIssuerUrl = text(await resolvers.resolveVariable('param:jwtIssuerUrl'), 'param:jwtIssuerUrl');
  const jwtAudience = text(await resolvers.resolveVariable('param:jwtAudience'), 'param:jwtAudience');
  if (jwtIssuerUrl !== '' && jwtAudience.trim() === '') {
    throw new Error('param:jwtIssuerUrl is set but param:jwtAudience is empty: the JWT authorizer needs the client ids its tokens are for');
  }
  const corsParameter = text(await resolvers.resolveVariable('param:corsOrigins'), 'param:corsOrigins');
  const stageEnvironment = (await resolvers.resolveVariable('param:stageEnvironment')) as Record<string, unknown> | null;
  const traceEnabled = text(stageEnvironment?.POWERTOOLS_TRACE_ENABLED, 'param:stageEnvironment.POWERTOOLS_TRACE_ENABLED');
  const context: StackContext = {
    service,
    stage,
    logLevel,
    modelUriParameter,
    traceEnabled,
    jwtIssuerUrl,
    jwtAudience,
    corsOrigins: corsParameter
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== ''),
    localPorts: portsOf({}),
  };
  // Only the local stage looks at a running local stack.
  if (isLocal(context)) {
    context.localPorts = localPorts(env);
    context.corsOrigins = config.api.cors.allowedOrigins;
  }
  return context;
}
