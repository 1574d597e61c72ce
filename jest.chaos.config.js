// `npm run chaos`: the fault suite (test/chaos/*.chaos.ts), minutes long, one file at a time so the
// gateway, the five simulators and the load share the two cores with nothing else. Not in `npm test`
// (its matcher is *.test.ts); test/chaos/chaos-smoke.test.ts is the short version that is.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ['**/test/chaos/**/*.chaos.ts'],
  maxWorkers: 1,
  testTimeout: 45 * 60_000,
};
