/**
 * The examples as a user runs them: each program folder through the engine stand-in (with ts-node's
 * type check, as `pulumi up` does), up then destroy, against the emulator. examples/quickstart is the
 * program of `npm run demo`, which test/demo.test.ts runs the same way (up generates one video with a
 * secret url; destroy deletes it, leaving no video and no byte): it is not run twice.
 */
import axios from "axios";
import * as path from "path";
import { findPulumiCli, PulumiCliStack } from "../engine";
import { expectOk, opsOf, startVideoStack, TOKEN } from "./stack-harness";

const EXAMPLES = path.resolve(__dirname, "../../examples");
const typeChecked = { PULUMI_NODEJS_TRANSPILE_ONLY: "" };

async function madeElsewhere(url: string, prompt: string): Promise<string> {
    const form = new FormData();
    form.append("prompt", prompt);
    form.append("style", "fast-svd");
    return (await axios.post(`${url}/v2/video/text-to-video`, form, { headers: { Authorization: `Bearer ${TOKEN}` } }))
        .data.id;
}

it("examples/image-to-video: uploads still.png and records its digest; destroy deletes it", async () => {
    const { s, stop } = await startVideoStack([], {}, path.join(EXAMPLES, "image-to-video"));
    try {
        Object.assign(s.stack.opts.env!, typeChecked);
        const up = expectOk(await s.stack.up());
        expect(up.outputs.imageDigest.value).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect((await s.emulator.stats()).requests["POST /v2/video/image-to-video"]).toEqual({ "200": 1 });
        expectOk(await s.stack.destroy());
        const stats = await s.emulator.stats();
        expect(stats.videosStored).toBe(0);
        expect(stats.bytesStored).toBe(0);
    } finally {
        await stop();
    }
});

it("examples/adopt-and-clean-up: videos made elsewhere are adopted, then deleted by destroy", async () => {
    const { s, stop } = await startVideoStack([], {}, path.join(EXAMPLES, "adopt-and-clean-up"));
    try {
        Object.assign(s.stack.opts.env!, typeChecked);
        const ids = [await madeElsewhere(s.emulator.url, "one"), await madeElsewhere(s.emulator.url, "two")];
        s.stack.setConfig("imagine-adopt-and-clean-up:videoIds", { value: JSON.stringify(ids) });
        const up = expectOk(await s.stack.up());
        expect(opsOf(up)).toEqual(ids.map((id) => `create adopted-${id}`).sort());
        expect((await s.emulator.stats()).requests["POST /v2/video/text-to-video"]).toEqual({ "200": 2 });
        expectOk(await s.stack.destroy());
        expect((await s.emulator.stats()).videosStored).toBe(0);
    } finally {
        await stop();
    }
});

// The same program through a real `pulumi` binary, where one is installed (never on our machines:
// the CLI cannot be installed here). Where there is none, this says so instead of passing silently.
const cli = findPulumiCli();
if (cli) {
    it(`examples/quickstart through the real pulumi CLI (${cli}): up, then destroy leaves nothing`, async () => {
        const { s, stop } = await startVideoStack([], {}, path.join(EXAMPLES, "quickstart"));
        try {
            const run = new PulumiCliStack({
                cli,
                programDir: path.join(EXAMPLES, "quickstart"),
                stackName: "cli-test",
                backendDir: path.join(s.dir, "backend"),
                passphrase: "lifecycle passphrase",
                env: { ...process.env, IMAGINE_API_TOKEN: "", IMAGINE_BASE_URL: "" },
                onLine: () => undefined,
                config: {
                    "imagine:apiToken": { value: TOKEN, secret: true },
                    "imagine:baseUrl": { value: s.emulator.url },
                    "imagine:expectedMinutes": { value: "0.006" },
                    "imagine:requestsPerMinute": { value: "60000" },
                    "imagine:minPollSeconds": { value: "0.1" },
                    "imagine:maxPollSeconds": { value: "0.3" },
                },
            });
            expect((await run.init()).ok).toBe(true);
            expect((await run.up()).ok).toBe(true);
            expect((await s.emulator.stats()).videosStored).toBe(1);
            expect((await run.destroy()).ok).toBe(true);
            expect((await s.emulator.stats()).videosStored).toBe(0);
        } finally {
            await stop();
        }
    });
} else {
    console.info(
        "Lifecycle through the real `pulumi` CLI: NOT RUN (no `pulumi` binary on PATH). The engine stand-in ran the same programs above.",
    );
}
