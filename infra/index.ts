/** What the shims of serverless.yml (infra/*.js) use. */

export { localEndpoints } from '../local/endpoints';
export { buildResources } from './functionResources';
export { bucketCors, buildHttpApi } from './httpApi';
export { buildFunctions, esbuildExternal } from './lambdaFunctions';
export { config, localPorts, stackContext } from './stack';
