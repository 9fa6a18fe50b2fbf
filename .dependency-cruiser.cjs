/**
 * The import rules between top-level folders (`npm run layers`, part of `npm test`). Each folder
 * may import only the ones below it, so the folders form no cycle:
 *   shared/      the library that runs in Lambda: imports no other folder
 *   functions/   the handlers and the registry: shared/ only
 *   local/       the embedded stack: functions/ and shared/
 *   infra/       the template generator: the registry, the configuration, the local stack's endpoints
 *   ops/         operator logic (audit, DLQ, cost, stack outputs): functions/ and shared/
 *   scripts/     benchmarks and model recipes: anything but cli/ and test/
 *   cli/         the `pipeline` command: anything but test/
 *   test/        anything
 *   console/     the web console (runs in a browser): shared/ only, and nothing imports it
 */
const forbid = (name, from, to, comment) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    forbid(
      'shared-at-the-bottom',
      '^shared/',
      '^(functions|infra|local|ops|scripts|cli|test)/',
      'shared/ runs in Lambda and imports no other folder',
    ),
    forbid('functions-on-shared', '^functions/', '^(infra|local|ops|scripts|cli|test)/', 'functions/ runs in Lambda: shared/ only'),
    forbid(
      'local-below-cli',
      '^local/',
      '^(infra|ops|scripts|cli|test)/',
      'the local stack is used by the CLI and the tests, never the reverse',
    ),
    forbid(
      'infra-below-cli',
      '^infra/',
      '^(ops|scripts|cli|test)/',
      'the template generator needs the registry, the configuration and local endpoints only',
    ),
    forbid('ops-below-cli', '^ops/', '^(infra|local|scripts|cli|test)/', 'operator logic is used by the CLI, never the reverse'),
    forbid('scripts-apart', '^scripts/', '^(cli|test)/', 'benchmarks and recipes do not reach into the CLI or the tests'),
    forbid(
      'console-on-shared',
      '^console/',
      '^(functions|infra|local|ops|scripts|cli|test)/',
      'the web console runs in a browser: shared/ only',
    ),
    forbid(
      'nothing-imports-console',
      '^(shared|functions|infra|local|ops|scripts|cli|test)/',
      '^console/',
      'the console is bundled, never imported',
    ),
    forbid('cli-below-tests', '^cli/', '^test/', 'the CLI never imports tests'),
    {
      name: 'no-folder-cycles',
      comment: 'no import cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'resolvable',
      comment: 'an import that does not resolve is a typo or a missing dependency',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^aws-lambda$' }, // aws-lambda is types only (@types/aws-lambda)
    },
  ],
  options: {
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    // The swc parser reads no JSX: console/*.tsx are listed (so nothing may import them) but not parsed;
    // local/console.ts checks, from esbuild's metafile, that the bundle holds console/ and shared/ only.
    extraExtensionsToScan: ['.tsx'],
    exclude: { path: '^(node_modules|\\.local|\\.esbuild|\\.serverless|\\.cache)/' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.tsx', '.js', '.cjs', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['require', 'node', 'default'],
    },
  },
};
