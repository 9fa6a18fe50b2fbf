// serverless.yml's `local` stage: `${file(./infra/local.js):s3Endpoint}` and `:sqsEndpoint`, the
// endpoints of the running local stack (its state file), else of pipeline.config.json's ports.
const { load } = require('./load');

module.exports = () => {
  const { infra } = load();
  const endpoints = infra.localEndpoints(infra.localPorts());
  return { s3Endpoint: endpoints.s3, sqsEndpoint: endpoints.sqs };
};
