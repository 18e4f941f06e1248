/** Both documented status payload shapes and every status word, read into one form. */
import { parseStatusPayload } from "../../provider/api/status";

describe("parseStatusPayload", () => {
    it("reads the uuid shape (status word, url strings)", () => {
        const s = parseStatusPayload({
            status: "success",
            video: {
                uuid: "abc",
                created_at: "2025-03-04T07:09:25.048523Z",
                status: "finished",
                url: { generation: "https://x/v.mp4?sig=1", thumbnail: "https://x/t.jpg?sig=1" },
            },
        });
        expect(s).toEqual({
            state: "finished",
            vendorStatus: "finished",
            videoUrl: "https://x/v.mp4?sig=1",
            thumbnailUrl: "https://x/t.jpg?sig=1",
            createdAt: "2025-03-04T07:09:25.048523Z",
            message: undefined,
            progress: "finished",
        });
    });

    it("reads the legacy shape (no status word, url arrays, code)", () => {
        const done = parseStatusPayload({
            status: "success",
            video: {
                id: 1265,
                code: 2,
                created_at: "2025-04-10T14:27:02Z",
                url: { generation: ["https://x/v"], thumbnail: ["https://x/t"] },
            },
        });
        expect(done.state).toBe("finished");
        expect(done.videoUrl).toBe("https://x/v");
        expect(done.thumbnailUrl).toBe("https://x/t");
        const running = parseStatusPayload({
            status: "success",
            video: { id: 1, code: 1, url: { generation: [], thumbnail: [] } },
        });
        expect(running.state).toBe("processing");
        const failed = parseStatusPayload({
            status: "success",
            video: { id: 1, code: 3, message: "content rejected", url: { generation: [] } },
        });
        expect(failed).toMatchObject({ state: "failed", message: "content rejected" });
    });

    it.each([
        ["pending", "processing"],
        ["processing", "processing"],
        ["PROCESSING", "processing"],
        ["finished", "finished"],
        ["completed", "finished"],
        ["success", "finished"],
        ["failed", "failed"],
        ["error", "failed"],
    ])("maps the status word %s to %s", (word, state) => {
        expect(parseStatusPayload({ status: "success", video: { uuid: "a", status: word } }).state).toBe(state);
    });

    it.each([
        ["a queue notice in `message` without a status word", { id: 1, message: "queued: 3 ahead" }, "processing"],
        ["legacy code 1 with a notice", { id: 1, code: 1, message: "rendering" }, "processing"],
        ["legacy code 3", { id: 1, code: 3, message: "content rejected" }, "failed"],
        ["a known failure word", { status: "Cancelled" }, "failed"],
        ["an unknown word with an error field", { status: "moderated", error: "policy" }, "failed"],
        ["an unknown word with an error object", { status: "halted", error: { message: "gpu lost" } }, "failed"],
        ["an unknown word alone", { status: "upscaling" }, "processing"],
        ["no word, an error_message", { error_message: "bad input" }, "failed"],
        ["no word, a url", { url: { generation: "https://x/v" } }, "finished"],
    ])("by rule: %s is %s", (_what, video, state) => {
        expect(parseStatusPayload({ status: "success", video }).state).toBe(state);
    });

    it("names an unknown word in the progress line, and gives the vendor's words for a failure", () => {
        expect(parseStatusPayload({ status: "success", video: { status: "upscaling" } }).progress).toContain(
            '"upscaling" (a status word this provider does not know',
        );
        expect(parseStatusPayload({ status: "success", video: { status: "moderated", error: "policy" } }).message).toBe(
            "policy",
        );
    });

    it.each([
        ["a string", "https://x/v"],
        ["an array of strings", ["", "https://x/v"]],
        ["an array of objects", [{ url: "https://x/v" }]],
        ["an object", { url: "https://x/v" }],
    ])("reads url.generation given as %s", (_what, generation) => {
        expect(parseStatusPayload({ status: "success", video: { url: { generation } } }).videoUrl).toBe("https://x/v");
    });

    it("rejects an answer without a video object", () => {
        expect(() => parseStatusPayload({ status: "success" })).toThrow("no `video` object");
    });
});
