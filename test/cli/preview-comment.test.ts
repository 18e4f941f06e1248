/**
 * What a preview's reviewers get: `imagine-video download --from-outputs` of the preview-environment
 * example's outputs (its `previews` list and the secret signed `urls`) writes the emulator's bytes, and
 * `imagine-video preview-comment` turns the outputs and those files into the one marked comment: a table
 * of resource name, shortened prompt, status (failed and still-processing shown as such), size and the
 * artifact's link, with no signed link and no Markdown, HTML or mention injected by a prompt.
 */
import * as fs from "fs";
import * as path from "path";
import type { RunningEmulator } from "imagine-api-emulator";
import { cell, fileSize, PREVIEW_MARKER, previewComment, previewRows } from "../../provider/cli/preview-comment";
import { cli, emulator, envFor, KEY, seed, tempDir } from "./helpers";

const ARTIFACT = "https://github.com/acme/site/actions/runs/123/artifacts/456";

let emu: RunningEmulator;
afterAll(async () => {
    await emu?.stop();
});

async function link(id: string): Promise<string> {
    const r = await fetch(`${emu.url}/v2/video/${id}/status`, { headers: { authorization: `Bearer ${KEY}` } });
    return ((await r.json()) as { video: { url: { generation: string } } }).video.url.generation;
}

it("downloads the example's videos from its outputs and writes one table comment, without a signed link", async () => {
    emu = await emulator();
    const [a, b] = await seed(emu, 2);
    const links = [await link(a), await link(b)];
    expect(links[0]).toMatch(/\?/); // signed: a query the comment must never hold
    const dir = tempDir();
    const long = `A product teaser: a glowing cube rotating above a desk ${"and more ".repeat(20)}(preview of feature/x)`;
    // `pulumi stack output --json --show-secrets` of examples/preview-environment: previews, and the signed urls.
    const outputs = {
        previews: [
            { name: "scene-1", videoId: a, prompt: long, status: "finished" },
            { name: "scene-2", videoId: b, prompt: `see ${links[1]} | <b>@octocat</b> [x](y)`, status: "finished" },
            {
                name: "scene-3",
                videoId: "failed-video-3",
                prompt: "a cube",
                status: "failed",
                failureReason: "content policy",
            },
            { name: "scene-4", videoId: "processing-video-4", prompt: "a map", status: "processing" },
        ],
        videoIds: [a, b, "failed-video-3", "processing-video-4"],
        urls: [...links, null, null],
    };
    fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(outputs));

    const download = await cli(["download", "--from-outputs", "outputs.json", "--to", "videos"], envFor(emu.url), dir);
    // The two unknown ids fail (named), the two videos are on disk with the emulator's bytes.
    expect(download.code).toBe(1);
    for (const [i, id] of [a, b].entries()) {
        const stored = Buffer.from(await (await fetch(links[i])).arrayBuffer());
        expect(fs.readFileSync(path.join(dir, "videos", `${id}.mp4`)).equals(stored)).toBe(true);
    }

    const r = await cli(
        ["preview-comment", "--outputs", "outputs.json", "--downloads", "videos", "--artifact-url", ARTIFACT],
        {},
        dir,
    );
    expect(r.code).toBe(0);
    const body = r.stdout;
    const lines = body.split("\n");
    expect(lines[0]).toBe(PREVIEW_MARKER);
    expect(lines).toContain("| resource | prompt | status | size | file |");
    const rows = lines.filter((l) => l.startsWith("| ") && !l.startsWith("| resource"));
    expect(rows).toHaveLength(4);
    const size = (id: string) => fileSize(fs.statSync(path.join(dir, "videos", `${id}.mp4`)).size);
    expect(rows[0]).toMatch(
        new RegExp(`^\\| scene-1 \\| A product teaser: .{20,}… \\| finished \\| ${size(a)} \\| \\[`),
    );
    expect(rows[0]).toContain(`(${ARTIFACT})`);
    expect(rows[2]).toBe("| scene-3 | a cube | failed: content policy | – | – |");
    expect(rows[3]).toBe("| scene-4 | a map | still processing | – | – |");
    expect(body).toContain(`2 of 4 videos ready to watch: download them from [the workflow artifact](${ARTIFACT})`);
    // Every cell of every row is one cell: the prompt's pipe is escaped.
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length).toBe(7);
    // No signed link, no link from the outputs at all, no HTML, no mention.
    for (const l of links) expect(body).not.toContain(l.split("?")[0]);
    expect(body).not.toMatch(/signature=|expires=|\?[A-Za-z]+=/i);
    expect(body).not.toContain(emu.url);
    expect(body).not.toMatch(/<b>|@octocat/);
    expect(rows[1]).toContain("&lt;b&gt;&#64;octocat&lt;/b&gt; \\[x\\]\\(y\\)");
});

it("the rows and cells on their own: names from keys when there is no name, one row per id, escapes", () => {
    const dir = tempDir();
    const rows = previewRows({ teaser: { videoId: "v-1", status: "finished" }, again: { videoId: "v-1" } }, dir);
    expect(rows).toEqual([{ name: "teaser", videoId: "v-1", status: "finished", bytes: undefined }]);
    expect(previewComment(rows, ARTIFACT)).toContain("| teaser |  | finished, not downloaded | – | – |");
    expect(previewComment([], ARTIFACT)).toContain("This preview has no videos.");
    expect(cell("a\nb   c", 80)).toBe("a b c");
    expect(cell("x".repeat(100), 10)).toBe("xxxxxxxxx…");
});

it("refuses an artifact link with a query (never a signed link) and missing flags", async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "o.json"), "{}");
    const signed = await cli(
        [
            "preview-comment",
            "--outputs",
            "o.json",
            "--downloads",
            ".",
            "--artifact-url",
            "https://s3.example/v.mp4?X-Amz-Signature=abc",
        ],
        {},
        dir,
    );
    expect(signed.code).toBe(2);
    expect(signed.stdout + signed.stderr).not.toContain("X-Amz-Signature=abc");
    expect((await cli(["preview-comment", "--outputs", "o.json"], {}, dir)).code).toBe(2);
    expect(
        (
            await cli(
                ["preview-comment", "--outputs", "none.json", "--downloads", ".", "--artifact-url", ARTIFACT],
                {},
                dir,
            )
        ).code,
    ).toBe(2);
});
