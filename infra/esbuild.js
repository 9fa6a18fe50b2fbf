// serverless.yml `custom.esbuild.external: ${file(./infra/esbuild.js):external}`: sharp plus every
// function's native modules (each zip still gets only the packages its own bundle requires).
const { load } = require('./load');

module.exports = () => {
  const { infra, functions } = load();
  return { external: infra.esbuildExternal(functions) };
};
