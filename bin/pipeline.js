#!/usr/bin/env node

// The `pipeline` command: runs cli/main.ts through tsx, so there is no build step.
// main() reports every failure as one line and returns the exit code (0, 1, 2 or 64: see
// `pipeline help`); what is left here is what happens outside it: the CLI failing to load (an
// invalid pipeline.config.json) and an error nobody waited for. Those print one line too, and
// their stack trace only with DEBUG=1.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs/api').register();
const { EXIT, reportFailure } = require('../cli/errors.ts');

const argv = process.argv.slice(2);
const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : undefined;
const stderr = { err: (line) => process.stderr.write(`${line}\n`) };

function fail(error) {
  reportFailure(stderr, command, error);
  process.exitCode = EXIT.failed;
}

// Something that fails after its caller stopped waiting (a stray promise, an emitter's 'error'):
// the process cannot carry on safely, so it reports the error and ends.
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (error) => {
    fail(error);
    process.exit(EXIT.failed);
  });
}

let main;
try {
  ({ main } = require('../cli/main.ts'));
} catch (error) {
  fail(error);
}
if (main) {
  main(argv).then((code) => {
    process.exitCode = code;
  }, fail);
}
