/**
 * `npm test`: the suite. The end-to-end runs of whole scripts and installs (the benchmark and the chaos
 * run at their small size, the packed tarballs installed into a program, and into a copy of the
 * preview-environment example as a repository's root) are `npm run test:long`
 * (jest.long.config.js), which CI runs after it: each takes a minute or more of both cores by its
 * nature, and the suite stays within its time.
 * @type {import('jest').Config}
 */
const LONG = [
    "<rootDir>/test/bench.test.ts",
    "<rootDir>/test/chaos.test.ts",
    "<rootDir>/test/consumer/consumer.test.ts",
    "<rootDir>/test/consumer/preview-repository.test.ts",
];

module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    testPathIgnorePatterns: ["/node_modules/", ...LONG],
    // The longest files first, also on a fresh clone that has no cached durations (see the file).
    testSequencer: "<rootDir>/test/sequencer.js",
    transform: {
        "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }],
    },
    // Tests start real servers and child processes: run files two at a time on our 2-core machine.
    maxWorkers: 2,
    // A bound for a test that hangs, not a timing assertion: an engine operation starts two Node processes
    // (1.3 s of CPU each to load the Pulumi SDK), so a test of several operations on a loaded 2-core machine
    // needs minutes.
    testTimeout: 180000,
};
// Not a jest option: jest.long.config.js reads the list from here.
Object.defineProperty(module.exports, "LONG", { value: LONG, enumerable: false });
