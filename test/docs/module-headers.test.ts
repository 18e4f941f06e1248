/** Every module opens with a short comment saying its job, so a reader knows what a file is for before reading it. */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");
const FOLDERS = ["provider", "emulator", "test", "bench", "scripts", "examples", "bin"];

function sourceFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return e.name === "node_modules" || e.name === "dist" ? [] : sourceFiles(p);
        return /\.(ts|js|mjs|cjs)$/.test(e.name) ? [p] : [];
    });
}

/** The first line that is code, not a shebang, "use strict" or blank; a header comment starts with // or /*. */
function hasHeader(text: string): boolean {
    const first = text
        .split("\n")
        .map((l) => l.trim())
        .find((l) => l !== "" && !l.startsWith("#!") && !/^["']use strict["'];?$/.test(l));
    return first !== undefined && (first.startsWith("//") || first.startsWith("/*"));
}

it("every source file of the package, the emulator, the tests, the benchmarks, the scripts and the examples has a header", () => {
    const files = FOLDERS.flatMap((f) => sourceFiles(path.join(ROOT, f)));
    expect(files.length).toBeGreaterThan(100);
    const missing = files.filter((f) => !hasHeader(fs.readFileSync(f, "utf8"))).map((f) => path.relative(ROOT, f));
    expect(missing).toEqual([]);
});

it("tells a header from code", () => {
    expect(hasHeader('#!/usr/bin/env node\n"use strict";\n// The CLI.\nrequire("x");\n')).toBe(true);
    expect(hasHeader("/** The budget. */\nexport const a = 1;\n")).toBe(true);
    expect(hasHeader('import * as fs from "fs";\n/** Not a header: it comes after code. */\n')).toBe(false);
    expect(hasHeader("")).toBe(false);
});
