/** docs/troubleshooting.md covers every error class the package exports and every setting: derived from the exports at run time. */
import * as fs from "fs";
import * as path from "path";
import * as imagine from "../../provider";
import { headingAnchors } from "./markdown-links";

const GUIDE = path.resolve(__dirname, "../../docs/troubleshooting.md");
const text = fs.readFileSync(GUIDE, "utf8");

/** The package's exported error classes: every export that is a class whose instances are Errors. */
function exportedErrorClasses(): string[] {
    return Object.entries(imagine as Record<string, unknown>)
        .filter(([, v]) => typeof v === "function" && (v as { prototype?: unknown }).prototype instanceof Error)
        .map(([name]) => name)
        .sort();
}

/** The text of the section under a `## heading`, up to the next heading of level 2. */
function section(heading: string): string {
    const start = text.indexOf(`\n## ${heading}\n`);
    if (start < 0) throw new Error(`docs/troubleshooting.md has no "## ${heading}" section`);
    const end = text.indexOf("\n## ", start + 1);
    return text.slice(start, end < 0 ? undefined : end);
}

describe("docs/troubleshooting.md", () => {
    const classes = exportedErrorClasses();

    it("finds the error classes among the exports (ImagineError and its subclasses)", () => {
        expect(classes).toContain("ImagineError");
        expect(classes).toContain("ImagineConfigError");
        expect(classes.length).toBeGreaterThanOrEqual(10);
    });

    it("has a section for every exported error class", () => {
        const anchors = headingAnchors(text);
        expect(classes.filter((name) => !anchors.has(name.toLowerCase()))).toEqual([]);
    });

    it("lists every exported error class in the table at a glance", () => {
        const glance = section("At a glance");
        expect(classes.filter((name) => !glance.includes(`[\`${name}\`](#${name.toLowerCase()})`))).toEqual([]);
    });

    it("says for each class when it is seen, what it means for the videos, and what to do", () => {
        const incomplete = classes
            .filter((name) => name !== "ImagineError")
            .filter((name) => {
                const start = text.indexOf(`### \`${name}\`\n`);
                const end = text.indexOf("\n### ", start + 1);
                const body = text.slice(start, end < 0 ? undefined : end);
                return !(
                    body.includes("**When**") &&
                    body.includes("**Your videos**") &&
                    body.includes("**What to do**")
                );
            });
        expect(incomplete).toEqual([]);
    });

    it("names every setting of the provider, and its error's fix, under Setting errors", () => {
        const settings = section("Setting errors");
        const keys = Object.values(imagine.settingKeys).map((s) => s.key);
        expect(keys.length).toBeGreaterThan(10);
        expect(keys.filter((key) => !settings.includes(`| \`${key}\` |`))).toEqual([]);
    });
});
