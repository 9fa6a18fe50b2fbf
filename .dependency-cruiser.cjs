/**
 * The import rules between top-level folders (`npm run layers`, part of `npm test`):
 *   functions/, shared/  what runs in Lambda: imports nothing above it
 *   local/               the embedded stack: may use what runs in Lambda, never the CLI, scripts or tests
 *   ops/                 operator logic (audit, DLQ, cost): what runs in Lambda plus the local stack's endpoints
 *   cli/                 the `pipeline` command: anything but scripts and tests
 *   scripts/             benchmarks and model recipes: never the CLI or the tests
 *   test/                anything
 */
const forbid = (name, from, to, comment) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    forbid(
      'lambda-code-stays-below',
      '^(functions|shared)/',
      '^(cli|local|ops|scripts|test|infra)/',
      'functions/ and shared/ run in Lambda: they import nothing above them',
    ),
    forbid('shared-is-no-handler', '^shared/', '^functions/[^/]+/', 'shared/ is the library the handlers call, not the other way round'),
    forbid('local-below-cli', '^local/', '^(cli|ops|scripts|test)/', 'the local stack is used by the CLI and the tests, never the reverse'),
    forbid('ops-below-cli', '^ops/', '^(cli|scripts|test)/', 'operator logic is used by the CLI, never the reverse'),
    forbid('scripts-apart', '^scripts/', '^(cli|test)/', 'benchmarks and recipes do not reach into the CLI or the tests'),
    forbid(
      'infra-reads-the-registry-only',
      '^infra/',
      '^(cli|local|ops|scripts|test)/',
      'the template generator needs only the registry and the configuration',
    ),
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
    exclude: { path: '^(node_modules|\\.local|\\.esbuild|\\.serverless|\\.cache)/' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.cjs', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['require', 'node', 'default'],
    },
  },
};
