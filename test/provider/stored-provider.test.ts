/**
 * The provider as Pulumi stores it: serialized by the real resource code, rebuilt from that text in
 * a fresh process (as the dynamic provider host does), and run against the emulator, both inside
 * this repo and from the package as `npm pack` ships it.
 */
import * as pulumi from "@pulumi/pulumi";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Harness, startHarness, TOKEN } from "./harness";

const ROOT = path.resolve(__dirname, "../..");

/**
 * Registers a Video under Pulumi's mocks, in a program that has the token every way a user gives it
 * (stack config and environment), and returns the `__provider` text and all the inputs it sends.
 */
async function serializedProvider(): Promise<{ text: string; inputs: string }> {
    let captured: string | undefined;
    let allInputs = "";
    process.env.IMAGINE_API_TOKEN = TOKEN;
    process.env.PULUMI_CONFIG = JSON.stringify({ "imagine:apiToken": TOKEN });
    expect(new pulumi.Config("imagine").require("apiToken")).toBe(TOKEN);
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                captured = args.inputs.__provider;
                allInputs = JSON.stringify(args.inputs);
                return { id: "mock-id", state: args.inputs };
            },
            call: () => ({}),
        },
        "project",
        "stack",
        false,
    );
    // The package as a program imports it (the self-link resolves to dist/, what npm ships).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const imagine = require("pulumi-imagine-video");
    const video = new imagine.Video("intro", { prompt: "A city", style: "kling-1.0-pro" });
    await new Promise<void>((resolve) => video.urn.apply(() => resolve()));
    if (!captured) throw new Error("the resource registered no __provider");
    delete process.env.IMAGINE_API_TOKEN;
    delete process.env.PULUMI_CONFIG;
    return { text: captured, inputs: allInputs };
}

function runHost(cwd: string, providerText: string, config: Record<string, string>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
        const child = spawn(
            process.execPath,
            [path.join(__dirname, "host-child.js"), require.resolve("require-from-string")],
            { cwd, env: { PATH: process.env.PATH } },
        );
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("error", reject);
        child.on("close", () => {
            try {
                const line = out.split("\n").find((l) => l.startsWith("RESULT "));
                resolve({ ...JSON.parse(line!.slice("RESULT ".length)), stdout: out, stderr: err });
            } catch {
                reject(new Error(`host child printed no result: ${out} ${err}`));
            }
        });
        child.stdin.end(JSON.stringify({ providerText, config, inputs: { prompt: "A city", style: "kling-1.0-pro" } }));
    });
}

let h: Harness;
let text: string;
let registeredInputs: string;
beforeAll(async () => {
    h = await startHarness();
    ({ text, inputs: registeredInputs } = await serializedProvider());
});
afterAll(async () => {
    await h.stop();
});

const config = () => ({
    "imagine:apiToken": TOKEN,
    "imagine:baseUrl": h.emulator.url,
    "imagine:expectedMinutes": "0.006",
    "imagine:requestsPerMinute": "60000",
    "imagine:minPollSeconds": "0.05",
    "imagine:maxPollSeconds": "0.2",
});

describe("the stored provider", () => {
    it("is a thin shim of at most 2,048 bytes that loads the installed package and holds no token", () => {
        expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2048);
        expect(text).toContain('require("pulumi-imagine-video/v1")');
        expect(text).not.toContain(TOKEN);
        expect(registeredInputs).toContain("pulumi-imagine-video/v1");
        expect(registeredInputs).not.toContain(TOKEN);
        expect(text).not.toContain("axios");
    });

    it("creates and deletes a video when rebuilt from its text in a fresh process inside this repo", async () => {
        const program = fs.mkdtempSync(path.join(ROOT, "examples", ".tmp-program-"));
        try {
            const result = await runHost(program, text, config());
            expect(result.error).toBeUndefined();
            expect(result).toMatchObject({ status: "finished", readStatus: "finished", goneId: "" });
            expect(String(result.stdout)).toContain("generation started");
            expect(String(result.stdout) + String(result.stderr)).not.toContain(TOKEN);
        } finally {
            fs.rmSync(program, { recursive: true, force: true });
        }
        expect((await h.emulator.stats()).videosStored).toBe(0);
    });

    it("works from the package as npm packs it, installed into a program's node_modules", async () => {
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-packed-"));
        try {
            const tarball = execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", work], {
                cwd: ROOT,
                encoding: "utf8",
            })
                .trim()
                .split("\n")
                .pop()!;
            const modules = path.join(work, "program", "node_modules");
            const installed = path.join(modules, "pulumi-imagine-video");
            fs.mkdirSync(installed, { recursive: true });
            execFileSync("tar", ["-xzf", path.join(work, tarball), "-C", installed, "--strip-components=1"]);
            // The package's dependencies, as npm would install them beside it.
            for (const entry of fs.readdirSync(path.join(ROOT, "node_modules"))) {
                if (entry !== "pulumi-imagine-video" && entry !== ".bin" && !entry.startsWith(".")) {
                    fs.symlinkSync(path.join(ROOT, "node_modules", entry), path.join(modules, entry));
                }
            }
            expect(fs.existsSync(path.join(installed, "dist", "provider", "dynamic.js"))).toBe(true);
            const result = await runHost(path.join(work, "program"), text, config());
            expect(result.error).toBeUndefined();
            expect(result).toMatchObject({ status: "finished", goneId: "" });
        } finally {
            fs.rmSync(work, { recursive: true, force: true });
        }
    });
});
