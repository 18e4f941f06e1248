// Shared by the engine stand-in tests: a stack of the `files` fixture in a fresh temp folder.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineStack, OperationResult, ResourceState } from "./index";

export const FILES_FIXTURE = path.join(__dirname, "fixtures", "files");

export interface Item {
    name: string;
    content: string;
    replaceKey?: string;
    dbr?: boolean;
    failCreate?: "" | "partial" | "plain";
    failDelete?: boolean;
    dependsOn?: string[];
    protect?: boolean;
    retain?: boolean;
    /** The fixture's create waits (60 s at most) for a file `release-<name>` that the tests never write. */
    holdCreate?: boolean;
    /**
     * The fixture's delete logs `+name`/`-name` to inflight.log around a wait until this many deletes of
     * its group (`deleteGroup` in all) are in flight at once, or fewer when fewer are left (30 s at most).
     */
    deleteTogether?: number;
    deleteGroup?: number;
}

export interface FilesStack {
    stack: EngineStack;
    dir: string;
    statePath: string;
    setItems(items: Item[]): void;
    /** Lines of calls.log written by the fixture provider (create/update/read/delete <name> <id>). */
    calls(): string[];
    /** The .txt files the provider made, by name (file name without .txt). */
    files(): string[];
    /** Resources of the decrypted checkpoint of the fixture's File type. */
    fileResources(): ResourceState[];
}

export function filesStack(
    items: Item[],
    extra: { token?: string; timeoutMs?: number; parallel?: number } = {},
): FilesStack {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-standin-"));
    const statePath = path.join(dir, "state", "checkpoint.json");
    const stack = new EngineStack({
        programDir: FILES_FIXTURE,
        projectName: "files",
        stackName: "test",
        statePath,
        passphrase: "correct horse battery staple",
        // The fixture's type-checking is not under test here (test/lifecycle/examples.test.ts type-checks).
        env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true" },
        timeoutMs: extra.timeoutMs ?? 60000,
        parallel: extra.parallel,
        config: {
            "files:dir": { value: dir },
            "files:token": { value: extra.token ?? "tok-not-secret-enough", secret: true },
            "files:items": { value: JSON.stringify(items) },
        },
    });
    return {
        stack,
        dir,
        statePath,
        setItems: (next) => stack.setConfig("files:items", { value: JSON.stringify(next) }),
        calls: () => {
            const f = path.join(dir, "calls.log");
            return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean) : [];
        },
        files: () =>
            fs
                .readdirSync(dir)
                .filter((f) => f.endsWith(".txt") && f !== "configured-token.txt")
                .map((f) => f.slice(0, -4))
                .sort(),
        fileResources: () =>
            fs.existsSync(statePath)
                ? stack
                      .decryptedState()
                      .deployment.resources.filter((r) => r.type === "pulumi-nodejs:dynamic/files:File")
                : [],
    };
}

/** The most deletes the fixture had in flight at once, from inflight.log. */
export function maxDeletesInFlight(dir: string): number {
    const f = path.join(dir, "inflight.log");
    let now = 0;
    let max = 0;
    for (const line of fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter(Boolean) : []) {
        now += line.startsWith("+") ? 1 : -1;
        max = Math.max(max, now);
    }
    return max;
}

/** For failure messages: everything a user would have seen. */
export function explain(r: OperationResult): string {
    return JSON.stringify(
        {
            ok: r.ok,
            summary: r.summary,
            errors: r.errors,
            steps: r.steps.map((s) => `${s.op} ${s.name}`),
            stderr: r.stderr.slice(-3000),
        },
        null,
        2,
    );
}

/** Asserts an operation succeeded, showing what went wrong when it did not. */
export function expectOk(r: OperationResult): void {
    if (!r.ok) throw new Error(`operation failed:\n${explain(r)}`);
}

export function ops(r: OperationResult): string[] {
    return r.steps.map((s) => `${s.op} ${s.name}`);
}

/** The stack holds exactly these ids: in its state (the fixture's File resources) and as files on disk. */
export function expectHeld(s: FilesStack, ids: string[]): void {
    expect(
        s
            .fileResources()
            .map((x) => x.id)
            .sort(),
    ).toEqual([...ids].sort());
    expect(s.files()).toEqual([...ids].sort());
}
