/** @type {import('jest').Config} */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/test"],
    testMatch: ["**/*.test.ts"],
    transform: {
        "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }],
    },
    // Tests start real servers and child processes: run files two at a time on our 2-core machine.
    maxWorkers: 2,
    testTimeout: 60000,
};
