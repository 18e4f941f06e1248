/** The CLI process: first stdout line, clean exit on SIGTERM/SIGINT, --help, flag errors, and kill -9 persistence. */
import { spawnSync } from "node:child_process";
import { BIN, FIRST_LINE, spawnCli, type CliRun } from "./cli-process";
import { auth, call, KEY, OTHER_KEY, form, tempDir } from "./helpers";
import { kebabCase, SWITCH_NAMES } from "../../emulator/options";

const running: CliRun[] = [];
afterEach(() => {
    for (const run of running.splice(0))
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
});

async function cli(args: string[]): Promise<CliRun> {
    const run = await spawnCli(args);
    running.push(run);
    return run;
}

test("first stdout line is exactly the listening line, it serves, and SIGTERM exits 0", async () => {
    const run = await cli(["--port", "0", "--data-dir", tempDir(), "--token", KEY, "--token", OTHER_KEY]);
    expect(run.firstLine).toMatch(FIRST_LINE);
    expect((await call(`${run.url}/__emulator/health`)).json).toEqual({ status: "ok" });
    expect((await call(`${run.url}/v2/video/x/status`, { headers: auth(OTHER_KEY) })).status).toBe(404);
    run.child.kill("SIGTERM");
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stderr()).toBe("");
});

test("SIGINT exits 0 too; switches given as flags are in effect", async () => {
    const run = await cli([
        "--port",
        "0",
        "--data-dir",
        tempDir(),
        "--token",
        KEY,
        "--status-shape",
        "legacy",
        "--code-format",
        "string",
        "--disable-status-routes",
        "assets,deprecated",
        "--delete-methods",
        "DELETE",
        "--credits",
        "7",
        "--clockSpeed",
        "3",
    ]);
    const config = (await call(`${run.url}/__emulator/config`)).json;
    expect(config).toMatchObject({
        statusShape: "legacy",
        codeFormat: "string",
        disableStatusRoutes: ["assets", "deprecated"],
        deleteMethods: ["DELETE"],
        credits: 7,
        clockSpeed: 3,
    });
    expect((await call(`${run.url}/v2/video/x/status`, { headers: auth() })).json.code).toBe("1104");
    run.child.kill("SIGINT");
    expect(await run.exited).toEqual({ code: 0, signal: null });
});

test("--help lists every switch; a bad flag exits non-zero without a stack trace", () => {
    const help = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    for (const name of SWITCH_NAMES) expect(help.stdout).toContain(`--${kebabCase(name)}`);
    for (const flag of ["--port", "--data-dir", "--token"]) expect(help.stdout).toContain(flag);
    const bad = spawnSync(process.execPath, [BIN, "--data-dir", tempDir(), "--token", KEY, "--failure-rate", "7"], {
        encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/failureRate must be between 0 and 1/);
    expect(bad.stderr).not.toContain(KEY);
    const unknown = spawnSync(process.execPath, [BIN, "--data-dir", tempDir(), "--token", KEY, "--no-such-flag"], {
        encoding: "utf8",
    });
    expect(unknown.status).toBe(2);
    const noToken = spawnSync(process.execPath, [BIN, "--data-dir", tempDir()], { encoding: "utf8" });
    expect(noToken.status).toBe(2);
});

test("--log logs method, route and status, never the token", async () => {
    const run = await cli(["--port", "0", "--data-dir", tempDir(), "--token", KEY, "--log"]);
    await call(`${run.url}/v2/video/some-id/status`, { headers: auth() });
    run.child.kill("SIGTERM");
    await run.exited;
    expect(run.stderr()).toContain("GET /v2/video/:id/status 404");
    expect(run.stderr()).not.toContain(KEY);
});

test("kill -9 mid-work: restarted on the same folder, every video is still there and finishes", async () => {
    const dataDir = tempDir();
    // 720 emulated seconds at speed 360: two real seconds of processing.
    const args = ["--port", "0", "--data-dir", dataDir, "--token", KEY, "--clock-speed", "360"];
    const first = await cli(args);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
        const answer = await call(`${first.url}/v2/video/text-to-video`, {
            method: "POST",
            headers: auth(),
            body: form({ prompt: `video ${i}`, style: "kling-1.0-pro" }),
        });
        expect(answer.status).toBe(200);
        ids.push(answer.json.id);
    }
    // more writes in flight while the process is killed
    const inFlight = Array.from({ length: 10 }, (_, i) =>
        fetch(`${first.url}/v2/video/text-to-video`, {
            method: "POST",
            headers: auth(),
            body: form({ prompt: `late ${i}`, style: "fast-svd" }),
        })
            .then(async (r) => (r.status === 200 ? ((await r.json()) as { id: string }).id : undefined))
            .catch(() => undefined),
    );
    first.child.kill("SIGKILL");
    expect((await first.exited).signal).toBe("SIGKILL");
    const acknowledged = (await Promise.all(inFlight)).filter((id): id is string => id !== undefined);

    const second = await cli(args);
    const all = [...ids, ...acknowledged];
    for (const id of all) {
        const answer = await call(`${second.url}/v2/video/${id}/status`, { headers: auth() });
        expect({ id, status: answer.status }).toEqual({ id, status: 200 });
    }
    const deadline = Date.now() + 10_000;
    let states: string[] = [];
    while (Date.now() < deadline) {
        states = await Promise.all(
            all.map(
                async (id) =>
                    (await call(`${second.url}/v2/video/${id}/status`, { headers: auth() })).json.video.status,
            ),
        );
        if (states.every((s) => s === "finished")) break;
        await new Promise((r) => setTimeout(r, 200));
    }
    expect(states).toEqual(all.map(() => "finished"));
    const video = (await call(`${second.url}/v2/video/${ids[0]}/status`, { headers: auth() })).json.video;
    const file = await fetch(video.url.generation);
    expect(file.status).toBe(200);
    expect((await file.arrayBuffer()).byteLength).toBe(4096);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
});
