/** `check`: every bad input names its field and the fix; the image digest; unknown values in preview. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkInputs, UNKNOWN } from "../../provider/inputs/inputs";

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
let dir: string;
beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-check-"));
    fs.writeFileSync(path.join(dir, "cat.png"), PNG);
    fs.writeFileSync(path.join(dir, "notes.txt"), "hello");
    fs.mkdirSync(path.join(dir, "folder"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ok = { prompt: "A city at night", style: "kling-1.0-pro" };
const failuresOf = (news: Record<string, unknown>) => checkInputs(news, dir).failures;

describe("checkInputs", () => {
    it("accepts a text video and an image video, computing the image digest", () => {
        expect(failuresOf(ok)).toEqual([]);
        const { inputs, failures } = checkInputs({ ...ok, imagePath: "cat.png", aspectRatio: "16:9" }, dir);
        expect(failures).toEqual([]);
        expect(inputs.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it.each([
        [{ ...ok, prompt: "" }, "prompt", "must not be empty"],
        [{ ...ok, prompt: "   " }, "prompt", "must not be empty"],
        [{ style: "fast-svd" }, "prompt", "is required"],
        [{ ...ok, prompt: "x".repeat(2501) }, "prompt", "at most 2500"],
        [{ prompt: "p" }, "style", "is required"],
        [{ ...ok, style: "kling 1.0" }, "style", "not a style name"],
        [{ ...ok, aspectRatio: "4:3" }, "aspectRatio", "1:1, 16:9, 9:16"],
        [{ ...ok, imagePath: "missing.png" }, "imagePath", "does not exist"],
        [{ ...ok, imagePath: "folder" }, "imagePath", "is a folder"],
        [{ ...ok, imagePath: "notes.txt" }, "imagePath", "not a JPEG or PNG"],
        [{ ...ok, adoptVideoId: "abc" }, "prompt", "not both"],
        [{ adoptVideoId: "../etc/passwd" }, "adoptVideoId", 'no "/" or whitespace'],
        [{ adoptVideoId: "a b" }, "adoptVideoId", "not a video id"],
        [{ ...ok, timeoutMinutes: 0 }, "timeoutMinutes", "positive number"],
        [{ ...ok, timeoutMinutes: -5 }, "timeoutMinutes", "positive number"],
        [{ ...ok, waitForCompletion: "yes" }, "waitForCompletion", "true or false"],
        [{ ...ok, extraParams: { style: "x" } }, "extraParams", "set by the resource itself"],
        [{ ...ok, extraParams: { seed: 5 } }, "extraParams", "must be a string"],
    ])("rejects %j naming %s", (news, property, reason) => {
        const failures = failuresOf(news);
        expect(failures.map((f) => f.property)).toContain(property);
        expect(failures.find((f) => f.property === property)!.reason).toContain(reason);
    });

    it("rejects an image larger than 10 MiB without reading it", () => {
        const big = path.join(dir, "big.png");
        fs.writeFileSync(big, Buffer.alloc(10 * 1024 * 1024 + 1));
        expect(failuresOf({ ...ok, imagePath: big })[0].reason).toContain("at most 10485760 bytes");
    });

    it("lets unknown values through during preview", () => {
        const { inputs, failures } = checkInputs(
            { prompt: UNKNOWN, style: UNKNOWN, aspectRatio: UNKNOWN, imagePath: UNKNOWN, timeoutMinutes: UNKNOWN },
            dir,
        );
        expect(failures).toEqual([]);
        expect(inputs.imageDigest).toBe(UNKNOWN);
    });

    it("accepts an adopted video id alone", () => {
        expect(failuresOf({ adoptVideoId: "0b7f3c2e-1d4a-4b8e-9c1f-2a3b4c5d6e7f" })).toEqual([]);
    });
});
