// Loads the generators (infra/*.ts) and the function registry for serverless.yml's
// ${file(./infra/<x>.js)} variables. PIPELINE_FUNCTIONS_REGISTRY names another registry module
// (a path from the repository root exporting FUNCTIONS), e.g. a test fixture.

const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_REGISTRY = 'functions/registry.ts';

function load() {
  // Registered only while the TypeScript modules load (they require nothing lazily), so that the
  // framework's and plugins' own modules load as they would without it.
  const unregister = require('tsx/cjs/api').register();
  try {
    const infra = require('./index.ts');
    const registryPath = path.resolve(ROOT, process.env.PIPELINE_FUNCTIONS_REGISTRY || DEFAULT_REGISTRY);
    const { FUNCTIONS } = require(registryPath);
    if (!Array.isArray(FUNCTIONS)) throw new Error(`${path.relative(ROOT, registryPath)} exports no FUNCTIONS array`);
    return { infra, functions: FUNCTIONS };
  } finally {
    unregister();
  }
}

module.exports = { load };
