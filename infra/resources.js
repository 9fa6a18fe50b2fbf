// serverless.yml `resources: - ${file(./infra/resources.js)}`: every function's subscription, queue,
// DLQ, queue policies, role, alarms and outputs (infra/functionResources.ts).
const { load } = require('./load');

module.exports = async (resolvers) => {
  const { infra, functions } = load();
  return infra.buildResources(functions, infra.config, await infra.stackContext(resolvers));
};
