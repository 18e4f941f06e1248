/**
 * Bad input, as a user would make it, through the provider's own entry points against an emulator
 * over real HTTP: resource inputs go to `check` (and to `create` only when check lets them through),
 * stack config to `configure`, the environment to `deps.env`. Each row states what the user must read:
 * the field or setting to change, and a phrase that says how. When the problem can be seen locally,
 * the vendor (the emulator) must not have seen a single request.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { Harness, PROVIDER, startHarness, TOKEN } from "../provider/harness";

const text = { prompt: "A lighthouse in a storm", style: "kling-1.0-pro", __provider: PROVIDER };
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex");

type Where = "local" | "vendor" | "elsewhere";
interface Row {
    /** What the user did. */
    name: string;
    inputs?: Record<string, unknown>;
    config?: Record<string, string>;
    env?: Record<string, string>;
    /** What the message must name (an input or a setting); every entry must appear. */
    names: string[];
    /** The phrase that tells the user what to do. */
    fix: string | RegExp;
    /**
     * local: caught before any request (the emulator sees none); vendor: only the vendor can tell
     * (the emulator answers, nothing is stored); elsewhere: the base URL points away from the emulator.
     */
    where: Where;
    /** The input `check` must name, for input rows. */
    property?: string;
    /** A value the user gave that the message must not repeat (any input may hold a secret). */
    secret?: string;
    /** Runs between `check` and `create` (what the user changes in between). */
    between?: () => void;
}

let h: Harness;
let htmlOk: http.Server;
let html404: http.Server;
let elsewhereHits = 0;
let freePort = 0;
let dir: string;

const listen = (handler: http.RequestListener) =>
    new Promise<http.Server>((resolve) => {
        const s = http.createServer((req, res) => {
            elsewhereHits++;
            handler(req, res);
        });
        s.listen(0, "127.0.0.1", () => resolve(s));
    });
const urlOf = (s: http.Server) => `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;

beforeAll(async () => {
    h = await startHarness();
    dir = h.dataDir; // relative image paths resolve here (the harness's cwd)
    fs.writeFileSync(path.join(dir, "cat.png"), PNG);
    fs.writeFileSync(path.join(dir, "swap.png"), PNG);
    fs.writeFileSync(path.join(dir, "notes.txt"), "not an image, just notes");
    fs.writeFileSync(path.join(dir, "huge.png"), Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024 + 1 - PNG.length)]));
    fs.mkdirSync(path.join(dir, "shots"));
    execFileSync("mkfifo", [path.join(dir, "pipe.png")]);
    fs.symlinkSync(path.join(dir, "deleted.png"), path.join(dir, "dangling.png"));
    htmlOk = await listen((_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<!doctype html><html><body><h1>Welcome to our home page</h1></body></html>");
    });
    html404 = await listen((_req, res) => {
        res.writeHead(404, { "content-type": "text/html" });
        res.end("<html><body><h1>404 Not Found</h1><p>nginx</p></body></html>");
    });
    freePort = await new Promise<number>((resolve) => {
        const s = net.createServer().listen(0, "127.0.0.1", () => {
            const port = (s.address() as net.AddressInfo).port;
            s.close(() => resolve(port));
        });
    });
});
afterAll(async () => {
    htmlOk?.close();
    html404?.close();
    await h?.stop();
});

/**
 * A file that exists, is a regular file, but cannot be read. Tests run as root, where chmod 000 does
 * not stop reading: then /proc/self/mem stands in (a regular file whose read fails with EIO).
 */
function unreadableImage(): string {
    if (process.getuid?.() !== 0) {
        const p = path.join(dir, "locked.png");
        fs.writeFileSync(p, PNG);
        fs.chmodSync(p, 0o000);
        return p;
    }
    return "/proc/self/mem";
}

const rows: Row[] = [
    // --- resource inputs: all caught by check, before any request
    {
        name: "empty prompt",
        inputs: { ...text, prompt: "" },
        names: ["prompt"],
        property: "prompt",
        fix: "describe the video to generate",
        where: "local",
    },
    {
        name: "prompt of 2,600 characters",
        inputs: { ...text, prompt: "a storm ".repeat(325) },
        names: ["prompt", "2500"],
        property: "prompt",
        fix: "shorten it",
        where: "local",
    },
    {
        name: "aspect ratio 4:3",
        inputs: { ...text, aspectRatio: "4:3" },
        names: ["aspectRatio"],
        property: "aspectRatio",
        fix: "use one of 1:1, 16:9, 9:16",
        where: "local",
    },
    {
        name: "image file that does not exist",
        inputs: { ...text, imagePath: "photos/cat.png" },
        names: ["imagePath", "photos/cat.png"],
        property: "imagePath",
        fix: "check the path",
        where: "local",
    },
    {
        name: "image path through a dangling symlink",
        inputs: { ...text, imagePath: "dangling.png" },
        names: ["imagePath"],
        property: "imagePath",
        fix: "check the path",
        where: "local",
    },
    {
        name: "image path whose parent is a file",
        inputs: { ...text, imagePath: "notes.txt/cat.png" },
        names: ["imagePath"],
        property: "imagePath",
        fix: "check the path",
        where: "local",
    },
    {
        name: "image that cannot be read",
        inputs: { ...text, imagePath: "<unreadable>" },
        names: ["imagePath", "cannot be read"],
        property: "imagePath",
        fix: "check its permissions",
        where: "local",
    },
    {
        name: "image path that is a named pipe (would block a reader)",
        inputs: { ...text, imagePath: "pipe.png" },
        names: ["imagePath", "named pipe"],
        property: "imagePath",
        fix: "point it at a JPEG or PNG image",
        where: "local",
    },
    {
        name: "image that is a text file",
        inputs: { ...text, imagePath: "notes.txt" },
        names: ["imagePath", "not a JPEG or PNG"],
        property: "imagePath",
        fix: "convert it to JPEG or PNG",
        where: "local",
    },
    {
        name: "image over 10 MiB",
        inputs: { ...text, imagePath: "huge.png" },
        names: ["imagePath", "10 MiB"],
        property: "imagePath",
        fix: "resize or compress it",
        where: "local",
    },
    {
        name: "image path that is a folder",
        inputs: { ...text, imagePath: "shots" },
        names: ["imagePath", "folder"],
        property: "imagePath",
        fix: "point it at a JPEG or PNG image",
        where: "local",
    },
    {
        name: "adopt id ../x",
        inputs: { adoptVideoId: "../x", __provider: PROVIDER },
        names: ["adoptVideoId"],
        property: "adoptVideoId",
        fix: "Copy the id the Imagine API returned",
        where: "local",
    },
    {
        name: "adopt id a/b",
        inputs: { adoptVideoId: "a/b", __provider: PROVIDER },
        names: ["adoptVideoId"],
        property: "adoptVideoId",
        fix: "Copy the id the Imagine API returned",
        where: "local",
    },
    {
        name: "adopt id with an encoded slash %2F",
        inputs: { adoptVideoId: "a%2Fb", __provider: PROVIDER },
        names: ["adoptVideoId"],
        property: "adoptVideoId",
        fix: "Copy the id the Imagine API returned",
        where: "local",
    },
    {
        name: "adopt id with a trailing newline (pasted)",
        inputs: { adoptVideoId: "0b7f3c2e-1d4a\n", __provider: PROVIDER },
        names: ["adoptVideoId", "whitespace"],
        property: "adoptVideoId",
        fix: "Copy the id the Imagine API returned",
        where: "local",
    },
    {
        name: "adopt id with a space",
        inputs: { adoptVideoId: "0b7f3c2e 1d4a", __provider: PROVIDER },
        names: ["adoptVideoId"],
        property: "adoptVideoId",
        fix: "Copy the id the Imagine API returned",
        where: "local",
    },
    {
        name: "prompt together with adoptVideoId",
        inputs: { prompt: "x", adoptVideoId: "0b7f3c2e-1d4a", __provider: PROVIDER },
        names: ["prompt", "adoptVideoId"],
        property: "prompt",
        fix: "remove prompt",
        where: "local",
    },
    {
        name: "timeoutMinutes 0",
        inputs: { ...text, timeoutMinutes: 0 },
        names: ["timeoutMinutes"],
        property: "timeoutMinutes",
        fix: "use e.g. 30",
        where: "local",
    },
    {
        name: "timeoutMinutes -5",
        inputs: { ...text, timeoutMinutes: -5 },
        names: ["timeoutMinutes"],
        property: "timeoutMinutes",
        fix: "use e.g. 30",
        where: "local",
    },
    {
        name: 'waitForCompletion "yes"',
        inputs: { ...text, waitForCompletion: "yes" },
        names: ["waitForCompletion"],
        property: "waitForCompletion",
        fix: "true or false",
        where: "local",
    },
    {
        name: "extraParams overriding style",
        inputs: { ...text, extraParams: { style: "hailuo-ai" } },
        names: ["extraParams", "style"],
        property: "extraParams",
        fix: "use the matching input instead",
        where: "local",
    },
    {
        name: "extraParams with a number value",
        inputs: { ...text, extraParams: { seed: 42 } },
        names: ["extraParams.seed"],
        property: "extraParams",
        fix: "write the number as a string",
        where: "local",
    },
    {
        name: "extraParams with a secret number (a webhook code) not as text",
        inputs: { ...text, extraParams: { webhookCode: 918273645546 } },
        names: ["extraParams.webhookCode"],
        property: "extraParams",
        fix: "write the number as a string",
        where: "local",
        secret: "918273645546",
    },
    {
        name: "a secret pasted as aspectRatio",
        inputs: { ...text, aspectRatio: "sk-live-PASTEDsecret42" },
        names: ["aspectRatio"],
        property: "aspectRatio",
        fix: "use one of 1:1, 16:9, 9:16",
        where: "local",
        secret: "PASTEDsecret42",
    },
    {
        name: "a secret pasted as style",
        inputs: { ...text, style: "sk live PASTEDsecret43" },
        names: ["style"],
        property: "style",
        fix: 'use e.g. "kling-1.0-pro"',
        where: "local",
        secret: "PASTEDsecret43",
    },
    {
        name: "a secret pasted as adoptVideoId",
        inputs: { adoptVideoId: "vk-PASTEDsecret44/x", __provider: PROVIDER },
        names: ["adoptVideoId", '"/"'],
        property: "adoptVideoId",
        fix: "Copy the id the Imagine API returned",
        where: "local",
        secret: "PASTEDsecret44",
    },
    {
        name: "a secret pasted as timeoutMinutes",
        inputs: { ...text, timeoutMinutes: "PASTEDsecret45" },
        names: ["timeoutMinutes"],
        property: "timeoutMinutes",
        fix: "use e.g. 30",
        where: "local",
        secret: "PASTEDsecret45",
    },
    {
        name: "numeric adoptVideoId beyond 2^53 (rounded by JavaScript)",
        inputs: { adoptVideoId: 2 ** 60, __provider: PROVIDER },
        names: ["adoptVideoId", "2^53"],
        property: "adoptVideoId",
        fix: "write the id as a string",
        where: "local",
    },
    {
        name: "image replaced between check and create",
        inputs: { ...text, imagePath: "swap.png" },
        between: () => fs.writeFileSync(path.join(dir, "swap.png"), Buffer.concat([PNG, Buffer.from("edited")])),
        names: ["imagePath", "swap.png", "changed after it was checked"],
        fix: "Nothing was uploaded",
        where: "local",
    },
    // --- only the vendor can tell: one refused request, nothing stored or paid
    {
        name: "a style only the vendor rejects",
        inputs: { ...text, style: "no-such-style" },
        names: ["`style`", "no-such-style"],
        fix: "use a style the Imagine API offers",
        where: "vendor",
    },
    {
        name: "a wrong token (vendor 401)",
        inputs: text,
        config: { "imagine:apiToken": "vk-wrongKEY000000000000000000000000000000000000" },
        names: ["imagine:apiToken", "IMAGINE_API_TOKEN"],
        fix: "Set a valid API key with `pulumi config set --secret imagine:apiToken",
        where: "vendor",
    },
    // --- config and environment: caught at configure/check, before any request
    {
        name: "no token in config nor environment",
        inputs: text,
        config: { "imagine:apiToken": "" },
        names: ["imagine:apiToken", "IMAGINE_API_TOKEN"],
        fix: "Set it with `pulumi config set --secret imagine:apiToken",
        where: "local",
    },
    {
        name: "token with a space (pasted with its label)",
        inputs: text,
        config: { "imagine:apiToken": `key ${TOKEN}` },
        names: ["imagine:apiToken", "malformed"],
        fix: "Copy the key again",
        where: "local",
    },
    {
        name: "token with a trailing newline (from a file)",
        inputs: text,
        config: { "imagine:apiToken": `${TOKEN}\n` },
        names: ["imagine:apiToken", "malformed"],
        fix: "Copy the key again",
        where: "local",
    },
    {
        name: "malformed token in IMAGINE_API_TOKEN",
        inputs: text,
        config: { "imagine:apiToken": "" },
        env: { IMAGINE_API_TOKEN: `${TOKEN} ` + "x" },
        names: ["IMAGINE_API_TOKEN", "malformed"],
        fix: "Copy the key again",
        where: "local",
    },
    {
        name: "base URL that is not a URL",
        inputs: text,
        config: { "imagine:baseUrl": "api.vyro.ai" },
        names: ["imagine:baseUrl", "IMAGINE_BASE_URL"],
        fix: "Set it to https://api.vyro.ai",
        where: "local",
    },
    {
        name: "base URL with an ftp: scheme",
        inputs: text,
        config: { "imagine:baseUrl": "ftp://api.vyro.ai" },
        names: ["imagine:baseUrl"],
        fix: "Set it to https://api.vyro.ai",
        where: "local",
    },
    {
        name: "IMAGINE_BASE_URL that is not a URL (config empty)",
        inputs: text,
        config: { "imagine:baseUrl": "" },
        env: { IMAGINE_BASE_URL: "localhost:8080" },
        names: ["IMAGINE_BASE_URL", "localhost:8080"],
        fix: "e.g. http://127.0.0.1:8080",
        where: "local",
    },
    {
        name: "imagine:requestTimeoutSeconds 0",
        inputs: text,
        config: { "imagine:requestTimeoutSeconds": "0" },
        names: ["imagine:requestTimeoutSeconds", "IMAGINE_REQUEST_TIMEOUT_SECONDS"],
        fix: "must be a positive number of seconds",
        where: "local",
    },
    {
        name: "imagine:requestTimeoutSeconds -3",
        inputs: text,
        config: { "imagine:requestTimeoutSeconds": "-3" },
        names: ["imagine:requestTimeoutSeconds"],
        fix: "must be a positive number of seconds",
        where: "local",
    },
    {
        name: "http:// base URL to another machine (token in clear text)",
        inputs: text,
        config: { "imagine:baseUrl": "http://api.vyro.ai" },
        names: ["imagine:baseUrl", "imagine:allowInsecureHttp", "IMAGINE_ALLOW_INSECURE_HTTP"],
        fix: "Use https://",
        where: "local",
    },
    {
        name: "imagine:allowInsecureHttp that is not true or false",
        inputs: text,
        config: { "imagine:allowInsecureHttp": "maybe" },
        names: ["imagine:allowInsecureHttp", "IMAGINE_ALLOW_INSECURE_HTTP"],
        fix: "must be true or false",
        where: "local",
    },
    {
        name: "imagine:maxPollSeconds below imagine:minPollSeconds",
        inputs: text,
        config: { "imagine:minPollSeconds": "30", "imagine:maxPollSeconds": "10" },
        names: ["imagine:maxPollSeconds", "imagine:minPollSeconds"],
        fix: "Set the maximum at or above the minimum",
        where: "local",
    },
    // --- the base URL points at something that is not the Imagine API
    {
        name: "base URL with nothing listening",
        inputs: { ...text, timeoutMinutes: 0.02 },
        config: { "imagine:baseUrl": "<free>", "imagine:requestTimeoutSeconds": "1" },
        names: ["imagine:baseUrl", "IMAGINE_BASE_URL", "ECONNREFUSED"],
        fix: "Check imagine:baseUrl (or IMAGINE_BASE_URL) and the network",
        where: "elsewhere",
    },
    {
        name: "base URL that answers an HTML page with 200",
        inputs: text,
        config: { "imagine:baseUrl": "<html200>" },
        names: ["imagine:baseUrl", "not the Imagine API's JSON"],
        fix: "it should be https://api.vyro.ai",
        where: "elsewhere",
    },
    {
        name: "base URL that answers HTML 404 everywhere",
        inputs: text,
        config: { "imagine:baseUrl": "<html404>" },
        names: ["imagine:baseUrl", "HTTP 404", "Not Found"],
        fix: "it should be https://api.vyro.ai",
        where: "elsewhere",
    },
];

/** Runs one row as the engine would: configure, check, and create only when check passes. */
async function attempt(row: Row): Promise<{ message: string; properties: string[]; created?: string }> {
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(row.config ?? {})) {
        config[k] =
            v === "<free>"
                ? `http://127.0.0.1:${freePort}`
                : v === "<html200>"
                  ? urlOf(htmlOk)
                  : v === "<html404>"
                    ? urlOf(html404)
                    : v;
    }
    const inputs = { ...row.inputs };
    if (inputs.imagePath === "<unreadable>") inputs.imagePath = unreadableImage();
    const p = await h.handlers(config, { env: row.env ?? {}, backoff: { baseDelayMs: 10, maxDelayMs: 50 } });
    try {
        const { failures, inputs: checked } = await p.check({}, inputs);
        if (failures.length > 0) {
            // The engine shows check failures as `property: reason`.
            return {
                message: failures.map((f) => `${f.property}: ${f.reason}`).join("\n"),
                properties: failures.map((f) => f.property),
            };
        }
        row.between?.();
        const { id } = await p.create(checked);
        return { message: "", properties: [], created: id };
    } catch (e) {
        return { message: (e as Error).message, properties: [] };
    }
}

describe("bad input: the message names what to change and how, and nothing is paid", () => {
    it("has at least 25 rows", () => {
        expect(rows.length).toBeGreaterThanOrEqual(25);
    });

    it.each(rows.map((r) => [r.name, r] as const))("%s", async (_name, row) => {
        const before = await h.emulator.stats();
        const hitsBefore = elsewhereHits;
        const r = await attempt(row);
        const after = await h.emulator.stats();

        expect(r.created).toBeUndefined();
        for (const n of row.names) expect(r.message).toContain(n);
        if (typeof row.fix === "string") expect(r.message).toContain(row.fix);
        else expect(r.message).toMatch(row.fix);
        if (row.property) expect(r.properties).toContain(row.property);
        // Whatever went wrong, the key is never repeated back, nor a value that may be a secret.
        expect(r.message).not.toContain(TOKEN);
        if (row.secret) expect(r.message).not.toContain(row.secret);
        // No video was generated (or paid for) by any bad input.
        expect(after.videosStored).toBe(before.videosStored);
        if (row.where === "local") {
            expect(after.requestsTotal).toBe(before.requestsTotal);
            expect(elsewhereHits).toBe(hitsBefore);
        } else if (row.where === "vendor") {
            // The one generation request the vendor refused; it is not retried.
            expect(after.requestsTotal - before.requestsTotal).toBe(1);
        } else {
            expect(after.requestsTotal).toBe(before.requestsTotal);
        }
    });
});

describe("positive controls", () => {
    it("the token set only through IMAGINE_API_TOKEN (config empty) generates a video", async () => {
        const before = await h.emulator.stats();
        const p = await h.handlers({ "imagine:apiToken": "" }, { env: { IMAGINE_API_TOKEN: TOKEN } });
        const { failures, inputs } = await p.check({}, text);
        expect(failures).toEqual([]);
        const { id, outs } = await p.create(inputs);
        expect(outs.status).toBe("finished");
        expect((await h.emulator.stats()).videosStored).toBe(before.videosStored + 1);
        await p.delete(id, outs);
    });

    it("an image the rows' problems do not touch (cat.png, 16:9) generates a video", async () => {
        const p = await h.handlers();
        const { failures, inputs } = await p.check({}, { ...text, imagePath: "cat.png", aspectRatio: "16:9" });
        expect(failures).toEqual([]);
        const { id, outs } = await p.create(inputs);
        expect(outs.imageDigest).toMatch(/^sha256:/);
        await p.delete(id, outs);
    });
});
