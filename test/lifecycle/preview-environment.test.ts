/**
 * examples/preview-environment as its workflow runs it: a stack per pull request, several deploying and
 * closing at once against one API key (one emulator). Each stack is its own engine run with its own
 * program and provider processes, as separate CI jobs are.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startEmulator } from "imagine-api-emulator";
import { expectOk, opsOf, TOKEN, VideoStack } from "./stack-harness";

const PROGRAM = path.resolve(__dirname, "../../examples/preview-environment");
const SCENES_KEY = "imagine-preview-environment:scenes";
const SCENES = ["A product teaser: a glowing cube rotating above a desk", "The same cube unfolding into a city map"];

it("three pull requests deploy at once; one changes a scene while two close at once; the last closes; nothing is left", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-preview-env-"));
    const emulator = await startEmulator({
        dataDir: path.join(dir, "emulator"),
        tokens: [TOKEN],
        processingSeconds: 720,
        clockSpeed: 1440,
    });
    try {
        const pr = Object.fromEntries(
            [1, 2, 3].map((n) => {
                const s = new VideoStack(emulator, dir, PROGRAM, {}, `pr-${n}`);
                // What the workflow passes through env: the branch name, chosen by the pull request's author.
                s.stack.opts.env!.PREVIEW_BRANCH = `feature/$(touch pwned-${n}) "quoted" ${n}`;
                s.stack.setConfig(SCENES_KEY, { value: JSON.stringify(SCENES) });
                return [`pr-${n}`, s];
            }),
        );
        const ids = (s: VideoStack) =>
            s
                .videos()
                .map((v) => v.id!)
                .sort();
        const vendorHas = async (id: string) => (await pr["pr-1"].vendorStatus(id)) === 200;

        // Opened at once.
        const ups = await Promise.all(Object.values(pr).map((s) => s.stack.up()));
        ups.forEach((r) => expect(opsOf(expectOk(r))).toEqual(["create scene-1", "create scene-2"]));
        expect((await emulator.stats()).videosStored).toBe(6);
        const prompt = pr["pr-1"].videos()[0].outputs.prompt as string;
        expect(prompt).toContain(`feature/$(touch pwned-1) "quoted" 1`);
        expect(fs.readdirSync(PROGRAM).filter((f) => f.startsWith("pwned"))).toEqual([]);

        // pr-2 pushes a change to its second scene (that video is replaced, the first stays) while pr-1 and
        // pr-3 close at the same moment: destroy, then stack removal (`remove: true`). Separate CI jobs.
        const before = Object.fromEntries(pr["pr-2"].videos().map((v) => [v.urn.split("::").pop(), v.id!]));
        pr["pr-2"].stack.setConfig(SCENES_KEY, {
            value: JSON.stringify([SCENES[0], "The city map folding back into a cube"]),
        });
        const closing = [pr["pr-1"], pr["pr-3"]];
        const closedIds = closing.flatMap(ids);
        const [changedRun, ...destroys] = await Promise.all([
            pr["pr-2"].stack.up(),
            ...closing.map((s) => s.stack.destroy()),
        ]);
        const changed = expectOk(changedRun);
        expect(changed.steps.filter((x) => x.name === "scene-2").map((x) => x.op)).toEqual(
            expect.arrayContaining(["create-replacement", "delete-replaced"]),
        );
        expect(changed.steps.filter((x) => x.name === "scene-1").map((x) => x.op)).toEqual(["same"]);
        const after = Object.fromEntries(pr["pr-2"].videos().map((v) => [v.urn.split("::").pop(), v.id!]));
        expect(after["scene-1"]).toBe(before["scene-1"]);
        expect(after["scene-2"]).not.toBe(before["scene-2"]);
        expect(await vendorHas(before["scene-2"])).toBe(false);

        destroys.forEach((r) => expect(opsOf(expectOk(r))).toEqual(["delete scene-1", "delete scene-2"]));
        for (const s of closing) {
            expect(s.stack.readState().deployment.resources).toEqual([]);
            fs.rmSync(s.statePath); // `pulumi stack rm`: only an empty stack is removed
        }
        for (const id of closedIds) expect(await vendorHas(id)).toBe(false);
        // The emulator holds exactly pr-2's videos.
        expect((await emulator.stats()).videosStored).toBe(2);
        for (const id of ids(pr["pr-2"])) expect(await vendorHas(id)).toBe(true);

        // pr-2 closes: nothing is left.
        expectOk(await pr["pr-2"].stack.destroy());
        const stats = await emulator.stats();
        expect(stats.videosStored).toBe(0);
        expect(stats.bytesStored).toBe(0);
    } finally {
        await emulator.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}, 300_000);
