/**
 * The provider's layering, kept honest: no file over 400 lines, no import cycle between files, and no
 * folder of provider/ that imports a folder which imports it back (the folders layer as the files do).
 * The order is drawn in docs/architecture.md, and this test holds the drawing to the imports themselves.
 */
import * as fs from "fs";
import * as path from "path";

const PROVIDER = path.resolve(__dirname, "../../provider");
const MAX_LINES = 400;

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return sourceFiles(p);
        return e.name.endsWith(".ts") ? [p] : [];
    });
}

/** The provider files a file imports (relative `import`/`export ... from`, `import()` and `require()`). */
function importsOf(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    const specs = [...text.matchAll(/(?:\bfrom|\bimport|\brequire\()\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
    return specs.map((s) => {
        const base = path.resolve(path.dirname(file), s);
        const found = [`${base}.ts`, `${base}.d.ts`, path.join(base, "index.ts")].find((c) => fs.existsSync(c));
        if (!found) throw new Error(`${path.relative(PROVIDER, file)}: cannot resolve "${s}"`);
        return found;
    });
}

/** A file's folder under provider/: "." for the public surface at the top. */
const folderOf = (file: string): string => path.relative(PROVIDER, path.dirname(file)) || ".";

/** One cycle of `graph` as a path (first node repeated at the end), or undefined when it has none. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (n: string): string[] | undefined => {
        if (state.get(n) === "done") return undefined;
        if (state.get(n) === "open") return [...stack.slice(stack.indexOf(n)), n];
        state.set(n, "open");
        stack.push(n);
        for (const m of graph.get(n) ?? []) {
            const c = visit(m);
            if (c) return c;
        }
        stack.pop();
        state.set(n, "done");
        return undefined;
    };
    for (const n of graph.keys()) {
        const c = visit(n);
        if (c) return c;
    }
    return undefined;
}

const files = sourceFiles(PROVIDER);
const fileGraph = new Map(files.map((f) => [f, new Set(importsOf(f))]));
const folderGraph = new Map<string, Set<string>>();
for (const [f, targets] of fileGraph) {
    const from = folderOf(f);
    const edges = folderGraph.get(from) ?? new Set<string>();
    folderGraph.set(from, edges);
    for (const t of targets) if (folderOf(t) !== from) edges.add(folderOf(t));
}

it(`no file of provider/ is over ${MAX_LINES} lines`, () => {
    const long = files
        .map((f) => ({ file: path.relative(PROVIDER, f), lines: fs.readFileSync(f, "utf8").split("\n").length - 1 }))
        .filter((x) => x.lines > MAX_LINES);
    expect(long).toEqual([]);
});

it("no provider file imports one that imports it back, directly or not", () => {
    expect(findCycle(fileGraph)?.map((f) => path.relative(PROVIDER, f))).toBeUndefined();
});

it("no folder of provider/ imports a folder that imports it back, directly or not", () => {
    expect(folderGraph.size).toBeGreaterThan(5);
    expect(findCycle(folderGraph)).toBeUndefined();
});

it("nothing under provider/ imports the public surface at the top, and core/ imports no other folder", () => {
    const intoTop = [...folderGraph].filter(([from, to]) => from !== "." && to.has(".")).map(([from]) => from);
    expect(intoTop).toEqual([]);
    expect([...(folderGraph.get("core") ?? [])]).toEqual([]);
});

it("docs/architecture.md draws every folder and exactly the arrows between folders that the imports have", () => {
    const doc = fs.readFileSync(path.resolve(PROVIDER, "../docs/architecture.md"), "utf8");
    const section = doc.slice(doc.indexOf("## The provider's layers"));
    const diagram = section.slice(
        section.indexOf("```mermaid"),
        section.indexOf("```", section.indexOf("```mermaid") + 3),
    );
    const folder = (node: string) => (node === "top" ? "." : node);
    const drawn = [...diagram.matchAll(/^\s*(\w+) --> (\w+)\s*$/gm)].map((m) => `${folder(m[1])} -> ${folder(m[2])}`);
    const actual = [...folderGraph].flatMap(([from, to]) => [...to].map((t) => `${from} -> ${t}`));
    expect(drawn.sort()).toEqual(actual.sort());
    const named = [...diagram.matchAll(/^\s*(\w+)\[/gm)].map((m) => folder(m[1]));
    expect(named.filter((n) => n !== "program").sort()).toEqual([...folderGraph.keys()].sort());
});

it("finds a cycle when there is one", () => {
    const g = new Map([
        ["a", new Set(["b"])],
        ["b", new Set(["c"])],
        ["c", new Set(["a"])],
        ["d", new Set<string>()],
    ]);
    expect(findCycle(g)).toEqual(["a", "b", "c", "a"]);
    expect(findCycle(new Map([["a", new Set(["b"])]]))).toBeUndefined();
});
