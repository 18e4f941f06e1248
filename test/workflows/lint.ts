/**
 * The checks every GitHub Actions workflow passes, importable by the tests that lint workflows: the
 * workflow linter `action-validator` (schema, expressions, job and step keys) and the script-injection
 * check of every `run:` and `with:` value (./script-injection.ts).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { injectionFindings } from "./script-injection";

// js-yaml ships no types of its own; this is the one function used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const yaml: { load(text: string): unknown } = require("js-yaml");

const ROOT = path.resolve(__dirname, "../..");
const VALIDATOR = path.join(ROOT, "node_modules", "@action-validator", "cli", "cli.mjs");

/** `action-validator FILE`: ok, and what it printed (nothing when ok). */
export function validate(file: string): { ok: boolean; output: string } {
    try {
        return {
            ok: true,
            output: execFileSync(process.execPath, [VALIDATOR, file], { encoding: "utf8", stdio: "pipe" }),
        };
    } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
    }
}

/** The script-injection findings of a workflow file (none: []). */
export function injectionFindingsOf(file: string): string[] {
    return injectionFindings(yaml.load(fs.readFileSync(file, "utf8")));
}
