import { parseStatusPayload } from "../../provider/status";

describe("parseStatusPayload", () => {
    it("reads the uuid shape (status word, url strings)", () => {
        const s = parseStatusPayload({
            status: "success",
            video: { uuid: "abc", created_at: "2025-03-04T07:09:25.048523Z", status: "finished", url: { generation: "https://x/v.mp4?sig=1", thumbnail: "https://x/t.jpg?sig=1" } },
        });
        expect(s).toEqual({ state: "finished", vendorStatus: "finished", videoUrl: "https://x/v.mp4?sig=1", thumbnailUrl: "https://x/t.jpg?sig=1", createdAt: "2025-03-04T07:09:25.048523Z", message: undefined, progress: "finished" });
    });

    it("reads the legacy shape (no status word, url arrays, code)", () => {
        const done = parseStatusPayload({ status: "success", video: { id: 1265, code: 2, created_at: "2025-04-10T14:27:02Z", url: { generation: ["https://x/v"], thumbnail: ["https://x/t"] } } });
        expect(done.state).toBe("finished");
        expect(done.videoUrl).toBe("https://x/v");
        expect(done.thumbnailUrl).toBe("https://x/t");
        const running = parseStatusPayload({ status: "success", video: { id: 1, code: 1, url: { generation: [], thumbnail: [] } } });
        expect(running.state).toBe("processing");
        const failed = parseStatusPayload({ status: "success", video: { id: 1, code: 3, message: "content rejected", url: { generation: [] } } });
        expect(failed).toMatchObject({ state: "failed", message: "content rejected" });
    });

    it.each([
        ["pending", "processing"], ["processing", "processing"], ["PROCESSING", "processing"],
        ["finished", "finished"], ["completed", "finished"], ["success", "finished"],
        ["failed", "failed"], ["error", "failed"],
    ])("maps the status word %s to %s", (word, state) => {
        expect(parseStatusPayload({ status: "success", video: { uuid: "a", status: word } }).state).toBe(state);
    });

    it("rejects an answer without a video object", () => {
        expect(() => parseStatusPayload({ status: "success" })).toThrow("no `video` object");
    });
});
