// serverless.yml's `local` stage: `${file(./infra/local.js):s3Endpoint}` and `:sqsEndpoint`, the
// endpoints of the running local stack (its state file), else of pipeline.config.json's ports.
const { load } = require('./load');

module.exports = () => {
  const { infra } = load();
  return infra.localEndpoints(infra.localPorts());
};
