/**
 * The README's reference tables match the code: the Configuration table the provider's settings (key,
 * variable, default), the inputs and outputs tables `VideoArgs` and `Video`'s declared outputs.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";
import { settingKeys } from "../../provider";

const ROOT = path.resolve(__dirname, "../..");
const README = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

/** The lines of the README section under `## heading`, up to the next heading of level 2. */
function section(heading: string): string[] {
    const lines = README.split("\n");
    const start = lines.indexOf(`## ${heading}`);
    if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
    const end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
    return lines.slice(start + 1, end < 0 ? undefined : end);
}

/**
 * The GitHub-flavoured tables of some Markdown lines: a header row, a delimiter row, then body rows up
 * to the first line that is not a row. Cells are split on pipes not escaped with `\`; `\|` becomes `|`.
 */
function tables(lines: string[]): { header: string[]; rows: string[][] }[] {
    const cells = (line: string) =>
        line
            .trim()
            .replace(/^\||\|$/g, "")
            .split(/(?<!\\)\|/)
            .map((c) => c.trim().replace(/\\\|/g, "|"));
    const found: { header: string[]; rows: string[][] }[] = [];
    for (let i = 0; i + 1 < lines.length; i++) {
        if (!lines[i].startsWith("|") || !/^\|(\s*:?-+:?\s*\|)+\s*$/.test(lines[i + 1])) continue;
        const table = { header: cells(lines[i]), rows: [] as string[][] };
        let j = i + 2;
        for (; j < lines.length && lines[j].startsWith("|"); j++) table.rows.push(cells(lines[j]));
        found.push(table);
        i = j - 1;
    }
    return found;
}

/** The code spans of a cell, in order. */
const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** The only table of a README section; fails if the section has another table, or stray table rows. */
function onlyTable(heading: string): { header: string[]; rows: string[][] } {
    const lines = section(heading);
    const found = tables(lines);
    expect(found.length).toBe(1);
    const rowLines = lines.filter((l) => l.startsWith("|")).length;
    // Rows cut off by a blank line render as a paragraph of pipes, not as rows: none may be left over.
    expect(rowLines).toBe(found[0].rows.length + 2);
    return found[0];
}

describe("the README's Configuration table", () => {
    const table = () => onlyTable("Configuration");
    const settings = Object.values(settingKeys) as {
        key: string;
        env: string;
        defaultValue?: string | number | boolean;
    }[];

    it("has one row per setting of the provider, and no other", () => {
        const keys = table().rows.map((r) => codeSpans(r[0])[0]);
        expect(keys.length).toBe(new Set(keys).size);
        expect([...keys].sort()).toEqual(settings.map((s) => s.key).sort());
    });

    it("gives each setting's environment variable and default as the provider reads them", () => {
        const { rows } = table();
        const row = (key: string) => rows.find((r) => codeSpans(r[0])[0] === key)!;
        const drift = settings.flatMap((s) => {
            const [, env, def] = row(s.key);
            const wrong: string[] = [];
            if (env !== `\`${s.env}\``) wrong.push(`${s.key}: variable ${env}, provider ${s.env}`);
            const expected = s.defaultValue === undefined ? /^\([a-z ]+\)$/ : `\`${String(s.defaultValue)}\``;
            if (typeof expected === "string" ? def !== expected : !expected.test(def))
                wrong.push(`${s.key}: default ${def}, provider ${String(s.defaultValue ?? "(none)")}`);
            return wrong;
        });
        expect(drift).toEqual([]);
    });
});

/** `Video`'s declared outputs (name and type) and `VideoArgs`' inputs, as the package's entry point exports them. */
function declared(): { outputs: Map<string, string>; inputs: string[] } {
    const entry = path.join(ROOT, "provider", "index.ts");
    const program = ts.createProgram([entry], {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        moduleResolution: ts.ModuleResolutionKind.Node10,
        strict: true,
        skipLibCheck: true,
        noEmit: true,
    });
    const checker = program.getTypeChecker();
    const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!);
    const declaration = (name: string) => {
        let symbol = exported.find((s) => s.name === name);
        if (!symbol) throw new Error(`the package exports no ${name}`);
        if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
        return symbol.declarations![0];
    };
    const video = declaration("Video") as ts.ClassDeclaration;
    const outputs = new Map<string, string>();
    for (const m of video.members) {
        if (!ts.isPropertyDeclaration(m) || !m.type || !ts.isTypeReferenceNode(m.type)) continue;
        if (!/(^|\.)Output$/.test(m.type.typeName.getText())) continue;
        outputs.set(m.name.getText(), m.type.typeArguments![0].getText().replace(/\s+/g, " "));
    }
    const args = declaration("VideoArgs") as ts.InterfaceDeclaration;
    const inputs = args.members.filter(ts.isPropertySignature).map((m) => m.name.getText());
    return { outputs, inputs };
}

describe("the README's reference of Video", () => {
    const { outputs, inputs } = declared();
    const [inputsTable, outputsTable] = tables(section("Reference: `Video`"));

    it("finds Video's declared outputs and VideoArgs' inputs", () => {
        expect(outputs.get("videoId")).toBe("string");
        expect(outputs.has("identity")).toBe(true);
        expect(inputs).toContain("prompt");
    });

    it("lists every input, once", () => {
        expect(inputsTable.header[0]).toBe("input");
        const names = inputsTable.rows.flatMap((r) => codeSpans(r[0]));
        expect(names.length).toBe(new Set(names).size);
        expect([...names].sort()).toEqual([...inputs].sort());
    });

    it("lists every declared output, once, with its type", () => {
        expect(outputsTable.header.slice(0, 2)).toEqual(["output", "type"]);
        const listed = new Map<string, string>();
        const repeated: string[] = [];
        for (const r of outputsTable.rows) {
            for (const name of codeSpans(r[0])) {
                if (listed.has(name)) repeated.push(name);
                listed.set(name, codeSpans(r[1])[0]);
            }
        }
        expect(repeated).toEqual([]);
        expect(Object.fromEntries([...listed].sort())).toEqual(Object.fromEntries([...outputs].sort()));
    });

    it("the declared outputs are the outputs of a Video at run time (under Pulumi's mocks)", async () => {
        await pulumi.runtime.setMocks(
            { newResource: (a) => ({ id: "mock-id", state: a.inputs }), call: () => ({}) },
            "project",
            "stack",
            false,
        );
        // The package as a program loads it (dist/, built by `pretest`).
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const imagine = require("pulumi-imagine-video");
        const video = new imagine.Video("v", { prompt: "A city", style: "kling-1.0-pro", imagePath: "x.png" });
        await new Promise<void>((resolve) => video.urn.apply(() => resolve()));
        const atRunTime = Object.keys(video).filter((k) => pulumi.Output.isInstance(video[k]));
        expect([...outputs.keys()].filter((k) => !atRunTime.includes(k) && !inputs.includes(k))).toEqual([]);
        // Every output the resource sets (the inputs given aside) is a declared one.
        const given = ["prompt", "style", "imagePath"];
        const undeclared = atRunTime.filter((k) => !outputs.has(k) && !given.includes(k));
        expect(undeclared.sort()).toEqual(["__provider", "id", "urn"]);
    });
});

describe("the README", () => {
    it("is under 25,000 bytes", () => {
        expect(Buffer.byteLength(README)).toBeLessThan(25_000);
    });

    it("lists every section in its table of contents", () => {
        const headings = README.split("\n")
            .filter((l) => l.startsWith("## "))
            .map((l) => l.slice(3));
        const contents = README.slice(0, README.indexOf("\n## "));
        expect(headings.filter((h) => !contents.includes(`[${h}](#`))).toEqual([]);
    });
});
