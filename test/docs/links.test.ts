/** Every relative link (and #anchor) between the repository's Markdown files resolves; the checker itself catches breaks. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { brokenReason, extractLinks, headingAnchors, markdownFiles } from "./markdown-links";

const ROOT = path.resolve(__dirname, "../..");

describe("links in the repository's Markdown files", () => {
    const files = markdownFiles(ROOT);

    it("finds the documents a newcomer reads", () => {
        const names = files.map((f) => path.relative(ROOT, f));
        for (const doc of [
            "README.md",
            "CONTRIBUTING.md",
            "CHANGELOG.md",
            "docs/architecture.md",
            "docs/emulator.md",
            "docs/testing.md",
            "docs/benchmarks.md",
            "examples/quickstart/README.md",
        ]) {
            expect(names).toContain(doc);
        }
    });

    it("has no relative link to a missing file or heading", () => {
        const broken: string[] = [];
        let checked = 0;
        for (const file of files) {
            for (const link of extractLinks(file, fs.readFileSync(file, "utf8"))) {
                if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue;
                checked++;
                const why = brokenReason(link, ROOT);
                if (why) broken.push(`${path.relative(ROOT, file)}:${link.line}: (${link.target}) ${why}`);
            }
        }
        expect(broken).toEqual([]);
        expect(checked).toBeGreaterThan(20); // the docs do link to each other
    });
});

describe("links in the READMEs a registry page shows (README.md, emulator/README.md)", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
        repository: { url: string };
    };
    const repo = manifest.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");
    const packaged = ["README.md", path.join("emulator", "README.md")].map((f) => path.join(ROOT, f));
    const links = packaged.flatMap((f) => extractLinks(f, fs.readFileSync(f, "utf8")));

    it("name the same repository as both package.json files", () => {
        expect(repo).toMatch(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
        const emulator = JSON.parse(fs.readFileSync(path.join(ROOT, "emulator", "package.json"), "utf8")) as {
            repository: { url: string };
        };
        expect(emulator.repository.url).toBe(manifest.repository.url);
    });

    it("link only to their own headings or by absolute URL (a relative file link breaks on a registry page)", () => {
        const relative = links.filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target) && !l.target.startsWith("#"));
        expect(relative.map((l) => `${path.relative(ROOT, l.file)}:${l.line}: ${l.target}`)).toEqual([]);
    });

    it("link to files and headings of this repository that exist", () => {
        const broken: string[] = [];
        let checked = 0;
        for (const link of links) {
            if (!link.target.startsWith(repo)) continue;
            const rest = link.target.slice(repo.length);
            // The repository's page shows README.md; /blob/main/<file> and /tree/main/<folder> show the tree.
            const m = /^(?:\/(?:blob|tree)\/main\/([^#]*))?(#.*)?$/.exec(rest);
            if (!m) {
                if (rest !== "/issues") broken.push(`${link.target}: not a file of the main branch`);
                continue;
            }
            checked++;
            const inRepo = {
                ...link,
                file: path.join(ROOT, "README.md"),
                target: `/${m[1] ?? "README.md"}${m[2] ?? ""}`,
            };
            const why = m[2] === "#readme" && !m[1] ? undefined : brokenReason(inRepo, ROOT);
            if (why) broken.push(`${path.relative(ROOT, link.file)}:${link.line}: (${link.target}) ${why}`);
        }
        expect(broken).toEqual([]);
        expect(checked).toBeGreaterThan(10);
    });
});

describe("the link checker", () => {
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-links-"));
        fs.mkdirSync(path.join(dir, "docs"));
        fs.writeFileSync(
            path.join(dir, "docs", "guide.md"),
            "# The guide\n\n## Reference: `Video`\n\n## What `pulumi up` does\n\n## Notes\n\n## Notes\n",
        );
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const check = (markdown: string) => {
        const file = path.join(dir, "README.md");
        fs.writeFileSync(file, markdown);
        return extractLinks(file, markdown).map((l) => brokenReason(l, dir));
    };

    it("accepts existing files, folders, headings (GitHub's anchors) and external links", () => {
        expect(
            check(
                "[a](docs/guide.md) [b](docs/) [c](./docs/guide.md#reference-video) [d](docs/guide.md#what-pulumi-up-does)\n" +
                    "[e](docs/guide.md#notes-1) [f](#top) ![g](https://example.com/x.png)\n\n# Top\n\n[ref]: docs/guide.md\n",
            ),
        ).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
    });

    it("reports a missing file, a missing heading and a broken reference definition", () => {
        expect(
            check("[a](docs/gone.md) [b](docs/guide.md#nowhere) [c](#no-such-heading)\n\n[ref]: ../nope.md\n"),
        ).toEqual([
            "docs/gone.md does not exist",
            "no heading with anchor #nowhere in docs/guide.md",
            "no heading with anchor #no-such-heading in README.md",
            expect.stringMatching(/nope\.md does not exist$/),
        ]);
    });

    it("ignores links inside code", () => {
        expect(check("`[a](gone.md)`\n\n```md\n[b](gone.md)\n```\n")).toEqual([]);
    });

    it("numbers repeated headings as GitHub does", () => {
        expect([...headingAnchors("# A b\n## A b\n### A, b!\n")]).toEqual(["a-b", "a-b-1", "a-b-2"]);
    });
});
