/**
 * `imagine-video janitor` against stand-in `pulumi` and `gh` executables on PATH: small node scripts
 * that hand their command line to this test, which answers `pulumi stack ls --json` from the stacks it
 * runs, `pulumi destroy` and `pulumi stack rm` with the engine stand-in against the emulator, and
 * `gh pr view` from a table of pull requests. Proves the exact commands the janitor issues (no shell:
 * execFile of the executables found on PATH) and what it does with their answers: pr-1 closed and pr-3
 * idle past the TTL are destroyed and removed, pr-2 (open) is untouched, pr-4 (closed, its destroy fails)
 * is kept and reported, exit 1; a stack outside the prefix and one with an update in progress are never
 * touched; then the sweep deletes the ledger's stray generation. The emulator holds only pr-2's and
 * pr-4's videos.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { startEmulator, type RunningEmulator } from "imagine-api-emulator";
import { accountOf } from "../../provider/ledger/ledger";
import { expectOk, FIXTURE, TOKEN, VideoStack } from "../lifecycle/stack-harness";
import { cli, tempDir } from "./helpers";

const REPO = "acme/site";
const PRS: Record<string, string> = { "1": "CLOSED", "2": "OPEN", "3": "OPEN", "4": "MERGED", "5": "CLOSED" };
const HOUR = 3_600_000;

/** A stand-in executable: its arguments go to the test's server, its answer comes back as output and exit code. */
const standIn = (tool: string) => `#!${process.execPath}
const http = require("http");
const body = JSON.stringify({ tool: ${JSON.stringify(tool)}, argv: process.argv.slice(2) });
const req = http.request(process.env.STANDIN_URL, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
    let data = "";
    res.on("data", (c) => (data += c));
    res.on("end", () => {
        const r = JSON.parse(data);
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        process.exitCode = r.code;
    });
});
req.end(body);
`;

let emulator: RunningEmulator;

/** A video made on the emulator directly; its id. */
async function generate(prompt: string): Promise<string> {
    const form = new FormData();
    form.append("prompt", prompt);
    form.append("style", "fast-svd");
    const r = await fetch(`${emulator.url}/v2/video/text-to-video`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: form,
    });
    return ((await r.json()) as { id: string }).id;
}
let server: http.Server;
afterAll(async () => {
    server?.close();
    await emulator?.stop();
});

it("destroys and removes pr-1 (closed) and pr-3 (idle), keeps pr-2 (open), reports pr-4 (destroy fails), then sweeps", async () => {
    const dir = tempDir();
    emulator = await startEmulator({
        dataDir: path.join(dir, "emulator"),
        tokens: [TOKEN],
        processingSeconds: 720,
        clockSpeed: 1440,
    });
    // pr-1 and pr-3, which the janitor destroys, are stacks of the engine stand-in. pr-2, which it must not
    // touch, and pr-4, whose destroy fails, are only listed, their videos made on the emulator (the commands
    // the janitor issues show what it did with them): two engine runs fewer for pr-4, whose destroy the
    // stand-in answers as `pulumi destroy` does when the provider cannot delete (exit 255).
    const stacks = Object.fromEntries(
        [1, 3].map((n) => {
            const s = new VideoStack(emulator, dir, FIXTURE, {}, `pr-${n}`);
            s.setVideos([{ name: "teaser", prompt: `preview of pull request ${n}`, style: "fast-svd" }]);
            return [`pr-${n}`, s];
        }),
    );
    (await Promise.all(Object.values(stacks).map((s) => s.stack.up()))).forEach(expectOk);
    const ids = Object.fromEntries(Object.entries(stacks).map(([name, s]) => [name, s.videos()[0].id!]));
    ids["pr-2"] = await generate("preview of pull request 2");
    ids["pr-4"] = await generate("preview of pull request 4");

    // A generation that an interrupted `pulumi up` left in the ledger, held by no stack: the sweep's.
    const stray = await generate("interrupted");
    const ledger = path.join(dir, "ledger.jsonl");
    fs.appendFileSync(
        ledger,
        JSON.stringify({
            op: "put",
            key: { project: "videos", stack: "pr-9", name: "teaser" },
            videoId: stray,
            digest: "sha256:x",
            account: accountOf(emulator.url, TOKEN),
            state: "accepted",
            at: Date.now() - 3 * HOUR,
        }) + "\n",
    );
    expect((await emulator.stats()).videosStored).toBe(5);

    // The stand-ins' answers.
    const commands: string[] = [];
    const lastUpdate: Record<string, number> = { "pr-3": Date.now() - 100 * HOUR, staging: Date.now() - 500 * HOUR };
    const answer = async (tool: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
        const line = [tool, ...argv].join(" ");
        commands.push(line);
        const ok = (stdout: string) => ({ code: 0, stdout, stderr: "" });
        if (line === "pulumi stack ls --json") {
            const live = ["pr-1", "pr-2", "pr-3", "pr-4"].filter(
                (n) => !stacks[n] || fs.existsSync(stacks[n].statePath),
            );
            return ok(
                JSON.stringify([
                    {
                        name: "staging",
                        current: false,
                        lastUpdate: new Date(lastUpdate.staging).toISOString(),
                        updateInProgress: false,
                        resourceCount: 3,
                    },
                    ...live.map((n) => ({
                        name: n,
                        current: false,
                        lastUpdate: new Date(lastUpdate[n] ?? Date.now()).toISOString(),
                        updateInProgress: false,
                        resourceCount: stacks[n] ? stacks[n].videos().length + 1 : 2,
                    })),
                    {
                        name: "pr-5",
                        current: false,
                        lastUpdate: new Date(Date.now() - 200 * HOUR).toISOString(),
                        updateInProgress: true,
                        resourceCount: 2,
                    },
                ]),
            );
        }
        let m = /^gh pr view (\d+) --repo acme\/site --json state$/.exec(line);
        if (m)
            return PRS[m[1]]
                ? ok(JSON.stringify({ state: PRS[m[1]] }))
                : { code: 1, stdout: "", stderr: "no pull requests found" };
        if (line === "pulumi destroy --stack pr-4 --yes --non-interactive") {
            // What `pulumi destroy` answers when the provider cannot delete (a revoked token): the stack is kept.
            return {
                code: 255,
                stdout: "",
                stderr: "error: imagine:index:Video (teaser): deleting failed: the API token is missing or not valid",
            };
        }
        m = /^pulumi destroy --stack (pr-[13]) --yes --non-interactive$/.exec(line);
        if (m) {
            const r = await stacks[m[1]].stack.destroy();
            return { code: r.ok ? 0 : 255, stdout: r.stdout, stderr: r.errors.join("\n") };
        }
        m = /^pulumi stack rm (pr-[13]) --yes --non-interactive$/.exec(line);
        if (m) {
            const s = stacks[m[1]];
            if (s.videos().length > 0) return { code: 255, stdout: "", stderr: "the stack still has resources" };
            fs.rmSync(s.statePath);
            return ok(`Stack '${m[1]}' has been removed!\n`);
        }
        return { code: 2, stdout: "", stderr: `stand-in: unexpected command ${line}` };
    };
    server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
            const { tool, argv } = JSON.parse(body) as { tool: string; argv: string[] };
            void answer(tool, argv).then((r) => res.end(JSON.stringify(r)));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const tool of ["pulumi", "gh"]) fs.writeFileSync(path.join(bin, tool), standIn(tool), { mode: 0o755 });
    const env = {
        PATH: `${bin}${path.delimiter}${process.env.PATH}`,
        STANDIN_URL: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
        IMAGINE_API_TOKEN: TOKEN,
        IMAGINE_BASE_URL: emulator.url,
        IMAGINE_LEDGER_PATH: ledger,
        IMAGINE_DELETION_LOG: path.join(dir, "receipts.jsonl"),
        IMAGINE_REQUESTS_PER_MINUTE: "60000",
        IMAGINE_MIN_POLL_SECONDS: "0.05",
        IMAGINE_MAX_POLL_SECONDS: "0.2",
    };
    const args = ["janitor", "--stack-prefix", "pr-", "--ttl-hours", "72", "--github-repo", REPO];
    const asked = [
        "pulumi stack ls --json",
        "gh pr view 1 --repo acme/site --json state",
        "gh pr view 2 --repo acme/site --json state",
        "gh pr view 4 --repo acme/site --json state",
    ];

    // --dry-run: the plan, and nothing but the questions.
    const dry = await cli([...args, "--dry-run"], env, dir);
    expect(dry.code).toBe(0);
    expect(commands).toEqual(asked);
    const planned = (events: Record<string, unknown>[]) =>
        Object.fromEntries(
            events.filter((e) => typeof e.stack === "string" && e.reason).map((e) => [e.stack, e.event]),
        );
    expect(planned(dry.events)).toEqual({
        staging: "skip",
        "pr-1": "would-destroy",
        "pr-2": "keep",
        "pr-3": "would-destroy",
        "pr-4": "would-destroy",
        "pr-5": "skip",
    });
    expect(dry.events).toContainEqual(expect.objectContaining({ event: "would-delete", id: stray }));
    expect((await emulator.stats()).videosStored).toBe(5);

    commands.length = 0;
    const r = await cli(args, env, dir);
    expect(commands).toEqual([
        ...asked,
        "pulumi destroy --stack pr-1 --yes --non-interactive",
        "pulumi stack rm pr-1 --yes --non-interactive",
        "pulumi destroy --stack pr-3 --yes --non-interactive",
        "pulumi stack rm pr-3 --yes --non-interactive",
        "pulumi destroy --stack pr-4 --yes --non-interactive",
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("failed to destroy pr-4 (exit 255); the stack is kept");
    expect(r.events).toContainEqual({ event: "failed", stack: "pr-4", step: "destroy", code: 255 });
    expect(r.events.at(-1)).toEqual({
        event: "summary",
        dryRun: false,
        destroyed: ["pr-1", "pr-3"],
        kept: ["pr-4"],
        failed: 1,
        sweep: 0,
    });
    expect(r.stdout + r.stderr).not.toContain(TOKEN);

    // pr-1 and pr-3 are gone (stack removed, video deleted); pr-2 and pr-4 keep theirs; the stray is swept.
    expect(Object.keys(stacks).filter((n) => fs.existsSync(stacks[n].statePath))).toEqual([]);
    const held = async (id: string) => (await stacks["pr-1"].vendorStatus(id)) === 200;
    expect(await Promise.all([ids["pr-1"], ids["pr-2"], ids["pr-3"], ids["pr-4"], stray].map(held))).toEqual([
        false,
        true,
        false,
        true,
        false,
    ]);
    expect((await emulator.stats()).videosStored).toBe(2);
}, 120_000);

it("refuses bad usage before running anything", async () => {
    const dir = tempDir();
    const env = { PATH: "/nonexistent" };
    expect((await cli(["janitor", "--ttl-hours", "72", "--github-repo", REPO], env, dir)).code).toBe(2);
    expect(
        (await cli(["janitor", "--stack-prefix", "pr-", "--ttl-hours", "0", "--github-repo", REPO], env, dir)).code,
    ).toBe(2);
    expect(
        (await cli(["janitor", "--stack-prefix", "pr-", "--ttl-hours", "72", "--github-repo", "a b"], env, dir)).code,
    ).toBe(2);
    // No pulumi on PATH: reported, exit 1.
    const none = await cli(["janitor", "--stack-prefix", "pr-", "--ttl-hours", "72", "--github-repo", REPO], env, dir);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("pulumi stack ls --json");
});
