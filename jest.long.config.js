/**
 * `npm run test:long`: the end-to-end runs kept out of `npm test` for their length (see jest.config.js):
 * `npm run bench -- --small`, `npm run chaos -- --videos 10` and the packed tarballs installed into a
 * program outside the repository. CI runs them after `npm test`.
 * @type {import('jest').Config}
 */
const base = require("./jest.config");

module.exports = {
    testEnvironment: base.testEnvironment,
    roots: base.roots,
    transform: base.transform,
    testMatch: base.LONG,
    maxWorkers: 1,
    testTimeout: 600000,
};
