/**
 * Refresh against a purpose-built vendor that signs its file links afresh on every status call, in the
 * shapes object stores use: a stored link is kept while valid (X-Amz-Date + X-Amz-Expires, an Expires
 * epoch, or no date at all) and renewed when expired or close to it.
 */
import { createHandlers } from "../../provider/methods/handlers";
import { TOKEN } from "./harness";
import { FakeVendor, startFakeVendor } from "./fake-vendor";

let v: FakeVendor;
let calls = 0;
let style: "amz" | "expires" | "plain" = "amz";
const amzDate = (ms: number) =>
    new Date(ms)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d{3}/, "");

/** A link signed now, valid for an hour, in the current style. */
function sign(file: string): string {
    calls++;
    const base = `https://bucket.example.com/videos/${file}`;
    if (style === "amz")
        return `${base}?X-Amz-Date=${amzDate(Date.now())}&X-Amz-Expires=3600&X-Amz-Signature=sig${calls}`;
    if (style === "expires") return `${base}?Expires=${Math.floor(Date.now() / 1000) + 3600}&Signature=sig${calls}`;
    return `${base}?token=t${calls}`;
}

beforeAll(async () => {
    v = await startFakeVendor(() => ({
        status: 200,
        body: {
            status: "success",
            video: { uuid: "v1", status: "finished", url: { generation: sign("v1.mp4"), thumbnail: sign("v1.jpg") } },
        },
    }));
});
afterAll(async () => v.stop());

async function refresh(stored: Record<string, unknown>) {
    const h = createHandlers({ log: () => undefined, env: {}, cwd: () => process.cwd() });
    const c: Record<string, string> = { "imagine:apiToken": TOKEN, "imagine:baseUrl": v.url };
    await h.configure({ config: { get: (k: string) => c[k] } });
    return (await h.read("v1", stored)).props;
}

const stored = (videoUrl: string, thumbnailUrl: string) => ({
    videoId: "v1",
    status: "finished",
    videoUrl,
    thumbnailUrl,
});

it.each(["amz", "expires", "plain"] as const)(
    "keeps valid %s links: the refresh of an unchanged video changes nothing",
    async (s) => {
        style = s;
        const outs = stored(sign("v1.mp4"), sign("v1.jpg"));
        const props = await refresh(outs);
        expect(props).toEqual(outs);
        expect(JSON.stringify(props)).toBe(JSON.stringify(outs));
    },
);

it("renews an X-Amz link that expired, and one within minutes of expiring", async () => {
    style = "amz";
    const expired = `https://bucket.example.com/videos/v1.mp4?X-Amz-Date=${amzDate(Date.now() - 2 * 3600_000)}&X-Amz-Expires=3600&X-Amz-Signature=old`;
    const closeToIt = `https://bucket.example.com/videos/v1.jpg?X-Amz-Date=${amzDate(Date.now() - 3590_000)}&X-Amz-Expires=3600&X-Amz-Signature=old`;
    const props = await refresh(stored(expired, closeToIt));
    expect(props.videoUrl).not.toBe(expired);
    expect(props.thumbnailUrl).not.toBe(closeToIt);
    expect(String(props.videoUrl)).toMatch(/X-Amz-Signature=sig\d+/);
});

it("renews an expired Expires link, and takes the vendor's link when the file is another", async () => {
    style = "expires";
    const expired = `https://bucket.example.com/videos/v1.mp4?Expires=${Math.floor(Date.now() / 1000) - 60}&Signature=old`;
    const otherFile = `https://bucket.example.com/videos/other.jpg?Expires=${Math.floor(Date.now() / 1000) + 3600}&Signature=old`;
    const props = await refresh(stored(expired, otherFile));
    expect(props.videoUrl).not.toBe(expired);
    expect(String(props.thumbnailUrl)).toContain("/videos/v1.jpg?");
});
