// Tests are ESM TypeScript, compiled by SWC; run with
// --experimental-vm-modules (see the test scripts in package.json).
//
// Four tiers, one Jest project each, each runnable alone (`npm run
// test:<tier>`); `npm test` runs them all. docs/development.md says what
// each needs and where CI runs it.
//   unit         pure code: no PostgreSQL, Redis, browser or child process
//                (test/unit/, mirroring src/)
//   integration  Parley in this process against real PostgreSQL and Redis
//                (a few files start a redis-server of their own to break it)
//   system       Parley as it is run: the server and the CLIs as child
//                processes, the container image's files, a PostgreSQL of the
//                test's own, the explorer in Chromium
//   repo         the repository's own checks: the docs name what exists,
//                generated code and schema.prisma match, docker-compose.yml
//                is valid, nothing points outside the project
import { existsSync } from 'node:fs';
import { CHROMIUM } from './test/support/chromium.mjs';

/** @type {import('jest').Config} */
const swc = ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }];

const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  // Sources import './x.js' (NodeNext); resolve to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

// One template database per run, migrated once, whichever tiers run (Jest
// runs a global setup once however many projects name it).
const withDatabase = {
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
};

// Without Chromium, a developer's `npm test` runs everything else and ends
// with a notice saying so (test/support/chromium.mjs); under CI the browser
// test is required and fails when Chromium is missing.
const ci = /^(1|true)$/i.test(process.env.CI ?? '');
const skipBrowser = !ci && !existsSync(CHROMIUM);

export default {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...shared, ...withDatabase, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    {
      ...shared,
      ...withDatabase,
      displayName: 'system',
      testMatch: ['<rootDir>/test/system/**/*.test.ts'],
      testPathIgnorePatterns: skipBrowser ? ['/node_modules/', '<rootDir>/test/system/explorer-browser\\.test\\.ts$'] : ['/node_modules/'],
    },
    { ...shared, ...withDatabase, displayName: 'repo', testMatch: ['<rootDir>/test/repo/**/*.test.ts'] },
  ],
  // Jest's own reporters otherwise (undefined: its default choice).
  reporters: skipBrowser ? ['default', '<rootDir>/test/support/chromium.mjs'] : undefined,
  // Half the cores run test files; the other half is left to PostgreSQL,
  // Redis and the processes the tests start. On the 2-core machine CI runs
  // on, that is one file at a time in Jest's own process: there one in-band
  // run already keeps a core busy (4 min 37 s of CPU in its 5 min 22 s) and
  // PostgreSQL takes the other, and a second worker measured no faster
  // (integration tier: 294 s in band, 311 s with two); CI fills the second
  // core with a second lane instead (.ci/run). docs/development.md#workers.
  maxWorkers: '50%',
  testTimeout: 30_000,
};
