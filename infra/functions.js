// serverless.yml `functions: ${file(./infra/functions.js)}`: one entry per registry function (infra/lambdaFunctions.ts).
const { load } = require('./load');

module.exports = async (resolvers) => {
  const { infra, functions } = load();
  return infra.buildFunctions(functions, infra.config, await infra.stackContext(resolvers));
};
