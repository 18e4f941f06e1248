#!/usr/bin/env node
"use strict";
// The emulator CLI; the code is compiled into dist/ by `npm run build` (run by `npm ci` at the repository root, or `npm pack`).
require("../dist/cli.js")
    .main(process.argv.slice(2))
    .catch((err) => {
        process.stderr.write(`imagine-emulator: ${err && err.message ? err.message : err}\n`);
        process.exit(1);
    });
