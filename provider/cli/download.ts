/**
 * `imagine-video download ID... --to DIR` and `--from-outputs FILE`: each video's file (and thumbnail)
 * to DIR/<id>.mp4 (and DIR/<id>.png or .jpg), written to a temporary name then renamed, skipped when a
 * file of the right size is already there. Fresh links come from a status read; signed links are never
 * printed (nor put in an error).
 */
import axios from "axios";
import * as fs from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { ImagineError, ImagineVideoNotFoundError } from "../core/errors";
import { API_OPTIONS, parse, str, UsageError } from "./args";
import { connect, settingsFrom } from "./context";
import { argSource, collectIds, idProblem } from "./ids";
import { CliIo, Output } from "./io";
import { ProgressBar } from "./progress";

export const DOWNLOAD_HELP = `Usage: imagine-video download ID... --to DIR
       imagine-video download --from-outputs FILE --to DIR

Writes each video's file to DIR/<id>.mp4 and its thumbnail to DIR/<id>.png (or .jpg): to a temporary
name first, then renamed, so DIR never holds half a file; a file already there with the right size is
skipped. --from-outputs reads the JSON of \`pulumi stack output --json --show-secrets\` and takes every
videoId in it (and every video link that has no videoId beside it). Links are never printed.

Options: --to DIR (required), --from-outputs FILE, --json, --base-url URL, --requests-per-minute N, --verbose
Exit: 0 all downloaded or already there, 1 some failed (each named), 2 bad usage.`;

/** What to download: a video by id (fresh links from its status), or a bare link found in outputs. */
interface Target {
    name: string;
    id?: string;
    link?: string;
}

/** Every videoId, and every link without a videoId beside it, in `pulumi stack output --json` output. */
export function targetsFromOutputs(doc: unknown): Target[] {
    const ids = new Set<string>();
    const links: { name: string; link: string }[] = [];
    const walk = (v: unknown, keyPath: string[]) => {
        if (Array.isArray(v)) {
            v.forEach((x, i) => walk(x, [...keyPath, String(i)]));
            return;
        }
        if (v && typeof v === "object") {
            const o = v as Record<string, unknown>;
            const sibling = typeof o.videoId === "string" && !idProblem(o.videoId) ? o.videoId : undefined;
            for (const [k, x] of Object.entries(o)) {
                if (typeof x === "string" && /videoid$/i.test(k) && !idProblem(x)) ids.add(x);
                else if (typeof x === "string" && /^https?:\/\//i.test(x)) {
                    if (sibling === undefined) links.push({ name: [...keyPath, k].join("."), link: x });
                } else walk(x, [...keyPath, k]);
            }
        }
    };
    walk(doc, []);
    const targets: Target[] = [...ids].map((id) => ({ name: id, id }));
    for (const l of links) {
        // A link that names a known video is that video's (its status gives a fresh link).
        const u = new URL(l.link);
        if ([...ids].some((id) => u.pathname.includes(id))) continue;
        if (/thumbnail/i.test(l.name) || /\.(png|jpe?g|webp)$/i.test(u.pathname)) continue;
        targets.push({ name: l.name.replace(/[^A-Za-z0-9_.-]/g, "_"), link: l.link });
    }
    return targets;
}

const storage = axios.create({ responseType: "stream", validateStatus: () => true, maxRedirects: 5 });

/** Downloads `link` to `file` unless a file of the same size is there. Errors never hold the link. */
async function fetchTo(
    link: string,
    file: (contentType: string) => string,
    timeoutMs: number,
): Promise<{ file: string; bytes: number; skipped: boolean }> {
    let response;
    try {
        response = await storage.get<NodeJS.ReadableStream & { destroy(): void }>(link, { timeout: timeoutMs });
    } catch (e) {
        throw new Error(`the file link could not be fetched (${(e as { code?: string }).code ?? "network error"})`);
    }
    if (response.status !== 200) {
        response.data.destroy();
        throw new Error(
            `the file link answered HTTP ${response.status}${response.status === 403 ? " (expired or refused)" : ""}`,
        );
    }
    const target = file(String(response.headers["content-type"] ?? ""));
    const length = Number(response.headers["content-length"]);
    const existing = fs.existsSync(target) ? fs.statSync(target).size : -1;
    if (Number.isFinite(length) && existing === length) {
        response.data.destroy();
        return { file: target, bytes: length, skipped: true };
    }
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.part`);
    try {
        await pipeline(response.data, fs.createWriteStream(temp));
        const size = fs.statSync(temp).size;
        if (Number.isFinite(length) && size !== length) {
            throw new Error(`the transfer was cut short (${size} of ${length} bytes)`);
        }
        fs.renameSync(temp, target);
        return { file: target, bytes: size, skipped: false };
    } catch (e) {
        fs.rmSync(temp, { force: true });
        throw new Error(`the download failed: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
}

function thumbExt(contentType: string): string {
    return /jpe?g/i.test(contentType) ? ".jpg" : /webp/i.test(contentType) ? ".webp" : ".png";
}

export async function downloadCommand(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(argv, {
        ...API_OPTIONS,
        to: { type: "string" },
        "from-outputs": { type: "string" },
    });
    const out = new Output(io, values.json === true);
    if (values.help) {
        io.stdout.write(DOWNLOAD_HELP + "\n");
        return 0;
    }
    const to = str(values, "to");
    const outputs = str(values, "from-outputs");
    if (to === undefined) throw new UsageError("--to DIR is required.");
    if ((outputs === undefined) === (positionals.length === 0)) {
        throw new UsageError("give ids as arguments or --from-outputs FILE (not both).");
    }
    let targets: Target[];
    if (outputs !== undefined) {
        let doc: unknown;
        try {
            doc = JSON.parse(fs.readFileSync(path.resolve(io.cwd, outputs), "utf8"));
        } catch (e) {
            throw new UsageError(
                `--from-outputs ${outputs}: ${(e as NodeJS.ErrnoException).code ?? "not JSON"} (expected the output of \`pulumi stack output --json --show-secrets\`).`,
            );
        }
        targets = targetsFromOutputs(doc);
    } else {
        const ids = await collectIds(argSource(positionals));
        targets = [];
        for await (const id of ids.ids()) targets.push({ name: id, id });
    }
    const settings = settingsFrom(values, io.env);
    const dir = path.resolve(io.cwd, to);
    fs.mkdirSync(dir, { recursive: true });
    const api = connect(settings, out, values.verbose === true);
    const bar = new ProgressBar(out, targets.length, "downloading");
    let failures = 0;
    try {
        for (const t of targets) {
            try {
                let video = t.link;
                let thumb: string | undefined;
                if (t.id !== undefined) {
                    const s = await api.client.getStatus(t.id, io.clock.now() + settings.deleteTimeoutMs);
                    if (!s.videoUrl) throw new Error(`it has no file (status ${s.state})`);
                    video = s.videoUrl;
                    thumb = s.thumbnailUrl;
                }
                const v = await fetchTo(video!, () => path.join(dir, `${t.name}.mp4`), settings.requestTimeoutMs);
                const files = [v];
                if (thumb)
                    files.push(
                        await fetchTo(thumb, (ct) => path.join(dir, t.name + thumbExt(ct)), settings.requestTimeoutMs),
                    );
                for (const f of files) {
                    out.event({
                        event: f.skipped ? "skipped" : "downloaded",
                        name: t.name,
                        file: f.file,
                        bytes: f.bytes,
                    });
                    out.line(
                        `${f.skipped ? "skipped (already there, same size)" : "downloaded"} ${f.file} (${f.bytes} bytes)`,
                    );
                }
                bar.tick();
            } catch (e) {
                failures++;
                const message =
                    e instanceof ImagineVideoNotFoundError
                        ? "the API knows no such video for this key"
                        : e instanceof ImagineError
                          ? e.message
                          : (e as Error).message;
                out.event({ event: "failed", name: t.name, error: message });
                out.error(`failed ${t.name}: ${message}`);
                bar.tick(true);
            }
        }
    } finally {
        bar.finish();
        await api.close();
    }
    out.line(`done: ${targets.length - failures} of ${targets.length} in ${dir}`);
    out.event({ event: "summary", total: targets.length, failed: failures, dir });
    return failures > 0 ? 1 : 0;
}
