#!/usr/bin/env node
"use strict";
// The imagine-video CLI; the code is compiled into dist/ by `npm run build` (run by `npm ci`, or `npm pack`).
require("../dist/provider/cli/main.js").main();
