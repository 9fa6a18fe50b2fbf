/** What the shims of serverless.yml (infra/*.js) use. */

export { buildResources } from './functionResources';
export { buildFunctions, esbuildExternal } from './lambdaFunctions';
export { localEndpoints } from './localState';
export { config, localPorts, stackContext } from './stack';
