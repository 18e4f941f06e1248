/**
 * Every GitHub Actions workflow in the repository (the repository's own CI and the examples') passes
 * the workflow linter `action-validator` (schema, expressions, job and step keys) and interpolates no
 * text that a pull request's author controls into a `run:` command or a `with:` input.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { injectionFindings } from "./script-injection";
import { injectionFindingsOf, validate, yaml } from "./lint";

const ROOT = path.resolve(__dirname, "../..");

function workflowFiles(): string[] {
    const dirs = [path.join(ROOT, ".github", "workflows")];
    for (const e of fs.readdirSync(path.join(ROOT, "examples")))
        dirs.push(path.join(ROOT, "examples", e, ".github", "workflows"));
    return dirs
        .filter((d) => fs.existsSync(d))
        .flatMap((d) =>
            fs
                .readdirSync(d)
                .filter((f) => /\.ya?ml$/.test(f))
                .map((f) => path.join(d, f)),
        );
}

const files = workflowFiles();

it("finds the preview-environment workflow", () => {
    expect(files.map((f) => path.relative(ROOT, f))).toContain(
        path.join("examples", "preview-environment", ".github", "workflows", "preview-videos.yml"),
    );
});

describe.each(files.map((f) => [path.relative(ROOT, f), f]))("%s", (_name, file) => {
    it("passes action-validator", () => {
        const r = validate(file);
        expect(r.output).toBe("");
        expect(r.ok).toBe(true);
    });

    it("interpolates no pull-request-controlled text into run: or with:", () => {
        expect(injectionFindingsOf(file)).toEqual([]);
    });
});

describe("the checks catch what they are for", () => {
    it("action-validator rejects a step with an unknown key", () => {
        const bad = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "workflow-")), "bad.yml");
        fs.writeFileSync(
            bad,
            "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n        bogus: 1\n",
        );
        const r = validate(bad);
        fs.rmSync(path.dirname(bad), { recursive: true, force: true });
        expect(r.ok).toBe(false);
        expect(r.output).toContain("bogus");
    });

    it("flags untrusted text in with: and run:, directly or through env, and lets env variables used by the shell pass", () => {
        const workflow = yaml.load(`
on: pull_request
env:
  TITLE: \${{ github.event.pull_request.title }}
jobs:
  up:
    runs-on: ubuntu-latest
    steps:
      - uses: pulumi/actions@v6
        with:
          config-map: "{branch: {value: '\${{ github.head_ref }}', secret: false}}"
          stack-name: pr-\${{ github.event.pull_request.number }}
      - run: echo "\${{ github.event.pull_request.title }}"
      - run: echo "\${{ env.TITLE }}"
      - run: echo "$BRANCH"
        env:
          BRANCH: \${{ github.head_ref }}
`);
        const findings = injectionFindings(workflow);
        expect(findings).toHaveLength(3);
        expect(findings[0]).toMatch(/^jobs\.up\.steps\[0\]\.with\.config-map: .*github\.head_ref/);
        expect(findings[1]).toMatch(/^jobs\.up\.steps\[1\]\.run: .*pull_request\.title/);
        expect(findings[2]).toMatch(/^jobs\.up\.steps\[2\]\.run: .*env\.TITLE/);
    });
});
