// @swc/jest rather than ts-jest: ts-jest does not follow TypeScript 7; types are checked by `tsc --noEmit`.
module.exports = {
  testEnvironment: '<rootDir>/test/nodeEnvironment.js',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
  setupFiles: ['<rootDir>/test/setupEnv.ts'],
};
