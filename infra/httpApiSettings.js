// serverless.yml `provider.httpApi: ${file(./infra/httpApiSettings.js)}`: CORS and the JWT authorizer of the
// HTTP API in front of the registry's http-api functions (infra/httpApi.ts).
const { load } = require('./load');

module.exports = async (resolvers) => {
  const { infra } = load();
  return infra.buildHttpApi(await infra.stackContext(resolvers));
};
