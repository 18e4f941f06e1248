/**
 * The GitHub Actions workflows of the repository and of the examples pass the workflow linter
 * (action-validator, run as its CLI) and hand no expression to a shell: event text reaches `run:` only
 * through environment variables.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
const CLI = require.resolve("@action-validator/cli/cli.mjs");

function workflows(): string[] {
    const dirs = [path.join(ROOT, ".github", "workflows")];
    for (const e of fs.readdirSync(path.join(ROOT, "examples"), { withFileTypes: true })) {
        if (e.isDirectory()) dirs.push(path.join(ROOT, "examples", e.name, ".github", "workflows"));
    }
    return dirs
        .filter((d) => fs.existsSync(d))
        .flatMap((d) =>
            fs
                .readdirSync(d)
                .filter((f) => /\.ya?ml$/.test(f))
                .map((f) => path.join(d, f)),
        );
}

function validate(file: string): { status: number | null; output: string } {
    const r = spawnSync(process.execPath, [CLI, file], { encoding: "utf8", timeout: 30_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** `${{ ... }}` expressions inside `run:` scripts (the one-line form and block scalars), with their line numbers. */
function expressionsInRun(text: string): string[] {
    const found: string[] = [];
    let blockIndent: number | undefined;
    text.split("\n").forEach((line, i) => {
        const indent = line.length - line.trimStart().length;
        if (blockIndent !== undefined && line.trim() !== "" && indent <= blockIndent) blockIndent = undefined;
        const run = /^(\s*)(?:-\s+)?run:\s*(.*)$/.exec(line);
        let script: string | undefined;
        if (run) {
            script = run[2];
            if (/^[|>][-+]?\s*(#.*)?$/.test(run[2])) blockIndent = indent;
        } else if (blockIndent !== undefined) {
            script = line;
        }
        if (script?.includes("${{")) found.push(`${i + 1}: ${line.trim()}`);
    });
    return found;
}

const files = workflows();

it("finds the repository's CI and the preview-environment example's workflow", () => {
    const names = files.map((f) => path.relative(ROOT, f));
    expect(names).toContain(".github/workflows/ci.yml");
    expect(names).toContain("examples/preview-environment/.github/workflows/preview-videos.yml");
});

describe.each(files.map((f) => [path.relative(ROOT, f), f]))("%s", (_name, file) => {
    it("passes the workflow linter", () => {
        const r = validate(file);
        expect(r.output).toBe("");
        expect(r.status).toBe(0);
    });

    it("passes no expression into a run: script", () => {
        expect(expressionsInRun(fs.readFileSync(file, "utf8"))).toEqual([]);
    });
});

describe("the checks themselves", () => {
    it("the linter rejects a job without runs-on", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-workflow-"));
        try {
            const bad = path.join(dir, "bad.yml");
            fs.writeFileSync(bad, "name: bad\non: [push]\njobs:\n  a:\n    steps:\n      - run: echo hi\n");
            const r = validate(bad);
            expect(r.status).toBe(1);
            expect(r.output).toContain("runs-on");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("finds an expression in a one-line run and in a block, not in with: or env:", () => {
        const text = [
            "steps:",
            "  - run: echo ${{ github.head_ref }}",
            "  - name: block",
            "    run: |",
            "      echo safe",
            '      echo "${{ github.event.pull_request.title }}"',
            "    env:",
            "      TITLE: ${{ github.event.pull_request.title }}",
            "  - uses: x/y@v1",
            "    with:",
            "      ref: ${{ github.head_ref }}",
        ].join("\n");
        expect(expressionsInRun(text)).toEqual([
            "2: - run: echo ${{ github.head_ref }}",
            '6: echo "${{ github.event.pull_request.title }}"',
        ]);
    });
});
