#!/usr/bin/env node

// The `pipeline` command: runs cli/main.ts through tsx, so there is no build step.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs/api').register();
const { main } = require('../cli/main.ts');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error?.stack ? error.stack : error);
    process.exitCode = 1;
  },
);
