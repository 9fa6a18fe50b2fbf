// serverless.yml's bucket CorsConfiguration: `${file(./infra/cors.js):uploads}` and `:thumbnails`, from
// the stage's corsOrigins parameter (infra/httpApi.ts bucketCors).
const { load } = require('./load');

module.exports = async (resolvers) => {
  const { infra } = load();
  return infra.bucketCors(await infra.stackContext(resolvers));
};
