/** What the shims of serverless.yml (infra/*.js) use. */
export { buildFunctions, esbuildExternal } from './functions';
export { localEndpoints } from './localState';
export { buildResources } from './resources';
export { config, localPorts, stackContext } from './stack';
