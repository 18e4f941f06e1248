/**
 * `imagine-video preview-comment --outputs FILE --downloads DIR --artifact-url URL`: the Markdown of the
 * one pull-request comment of a preview environment (examples/preview-environment): a table of its
 * videos (resource name, prompt shortened, status, file size, the artifact's link), starting with a
 * marker the workflow finds the comment by, to edit it on every push. Built from the stack's outputs and
 * the files `download` wrote; no link from the outputs is ever written (they are signed), and text from
 * the outputs is escaped so a prompt cannot break the table, mention anyone or inject HTML.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { redactSecrets } from "../api/request-sender";
import { parse, str, UsageError } from "./args";
import { CliIo } from "./io";

/** The first line of the comment: how the workflow finds it again. */
export const PREVIEW_MARKER = "<!-- imagine-video-preview -->";
/** The most characters of a prompt shown. */
export const PROMPT_CHARS = 80;

export const PREVIEW_COMMENT_HELP = `Usage: imagine-video preview-comment --outputs FILE --downloads DIR --artifact-url URL [--title TEXT]

Prints the Markdown of a preview environment's pull-request comment: the marker ${PREVIEW_MARKER},
then a table of the videos in FILE (the JSON of \`pulumi stack output --json --show-secrets\`; every
object with a videoId, named by its "name" key) with their prompt (shortened), status, the size of
DIR/<videoId>.mp4 (what \`imagine-video download --to DIR\` wrote) and URL, the workflow artifact.
No link from FILE is printed. URL must be https:// without a query.
Exit: 0, 2 bad usage (a missing or unreadable file, a bad URL).`;

/** One video of the preview. */
export interface PreviewRow {
    name: string;
    videoId: string;
    prompt?: string;
    status?: string;
    failureReason?: string;
    /** The size of the downloaded file; undefined when there is none. */
    bytes?: number;
}

/** Every object with a `videoId` in stack outputs (first seen wins on a repeated id), with its file's size. */
export function previewRows(outputs: unknown, downloads: string): PreviewRow[] {
    const rows = new Map<string, PreviewRow>();
    const text = (v: unknown) => (typeof v === "string" ? v : undefined);
    const walk = (v: unknown, keyPath: string[]) => {
        if (Array.isArray(v)) return v.forEach((x, i) => walk(x, [...keyPath, String(i)]));
        if (!v || typeof v !== "object") return;
        const o = v as Record<string, unknown>;
        const id = text(o.videoId);
        if (id !== undefined && /^[A-Za-z0-9_-]{1,128}$/.test(id) && !rows.has(id)) {
            const file = path.join(downloads, `${id}.mp4`);
            rows.set(id, {
                name: text(o.name) ?? (keyPath.join(".") || id),
                videoId: id,
                prompt: text(o.prompt),
                status: text(o.status),
                failureReason: text(o.failureReason),
                bytes: fs.existsSync(file) ? fs.statSync(file).size : undefined,
            });
        }
        for (const [k, x] of Object.entries(o)) walk(x, [...keyPath, k]);
    };
    walk(outputs, []);
    return [...rows.values()];
}

/**
 * Text from the outputs made safe for a table cell: links dropped (a prompt may hold one; a signed link
 * must never be posted), one line, shortened, and Markdown, HTML and @mentions escaped.
 */
export function cell(text: string, max = Infinity): string {
    // Any link goes, whole: a signed one must never be posted (redactSecrets too, for what is not a URL).
    let t = redactSecrets(text.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, "[link]"), "")
        .replace(/\s+/g, " ")
        .trim();
    if (t.length > max) t = t.slice(0, max - 1).trimEnd() + "…";
    return t
        .replace(/([\\`*_{}[\]()#+!|~])/g, "\\$1")
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/@/g, "&#64;");
}

/** `1.4 MB`, `512 KB`, `900 B`. */
export function fileSize(bytes: number): string {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function statusOf(r: PreviewRow): string {
    const s = r.status ?? "unknown";
    if (s === "failed") return `failed${r.failureReason ? `: ${cell(r.failureReason, 60)}` : ""}`;
    if (s === "processing" || s === "pending" || s === "queued") return "still processing";
    if (s === "finished" && r.bytes === undefined) return "finished, not downloaded";
    return cell(s);
}

/** The comment's Markdown. `artifactUrl` is a GitHub page (no query: never a signed link). */
export function previewComment(rows: PreviewRow[], artifactUrl: string, title = "Preview videos"): string {
    const url = checkedUrl(artifactUrl);
    const ready = rows.filter((r) => r.bytes !== undefined).length;
    const lines = [
        PREVIEW_MARKER,
        `### ${cell(title)}`,
        "",
        rows.length === 0
            ? "This preview has no videos."
            : `${ready} of ${rows.length} video${rows.length === 1 ? "" : "s"} ready to watch: download them from [the workflow artifact](${url}).`,
        "",
    ];
    if (rows.length > 0) {
        lines.push("| resource | prompt | status | size | file |", "|---|---|---|---|---|");
        for (const r of rows) {
            lines.push(
                `| ${cell(r.name)} | ${r.prompt === undefined ? "" : cell(r.prompt, PROMPT_CHARS)} | ${statusOf(r)} | ` +
                    `${r.bytes === undefined ? "–" : fileSize(r.bytes)} | ` +
                    `${r.bytes === undefined ? "–" : `[${cell(r.videoId)}.mp4](${url})`} |`,
            );
        }
        lines.push("");
    }
    lines.push(
        "<sub>Updated on every push by `imagine-video preview-comment`. The files are in the artifact; the stack's own links are signed and are never posted.</sub>",
        "",
    );
    return lines.join("\n");
}

function checkedUrl(text: string): string {
    let u: URL;
    try {
        u = new URL(text);
    } catch {
        throw new UsageError(`--artifact-url "${cell(text, 40)}" is not a URL.`);
    }
    if (u.protocol !== "https:" || u.search !== "" || u.username !== "" || u.password !== "") {
        throw new UsageError(
            "--artifact-url must be an https:// page without a query or credentials (never a signed link).",
        );
    }
    return u.toString().replace(/\(/g, "%28").replace(/\)/g, "%29");
}

export async function previewCommentCommand(argv: string[], io: CliIo): Promise<number> {
    const { values } = parse(argv, {
        outputs: { type: "string" },
        downloads: { type: "string" },
        "artifact-url": { type: "string" },
        title: { type: "string" },
    });
    if (values.help) {
        io.stdout.write(PREVIEW_COMMENT_HELP + "\n");
        return 0;
    }
    const outputs = str(values, "outputs");
    const downloads = str(values, "downloads");
    const artifactUrl = str(values, "artifact-url");
    if (outputs === undefined || downloads === undefined || artifactUrl === undefined) {
        throw new UsageError("--outputs FILE, --downloads DIR and --artifact-url URL are required.");
    }
    let doc: unknown;
    try {
        doc = JSON.parse(fs.readFileSync(path.resolve(io.cwd, outputs), "utf8"));
    } catch (e) {
        throw new UsageError(
            `--outputs ${outputs}: ${(e as NodeJS.ErrnoException).code ?? "not JSON"} (expected the output of \`pulumi stack output --json --show-secrets\`).`,
        );
    }
    const rows = previewRows(doc, path.resolve(io.cwd, downloads));
    io.stdout.write(previewComment(rows, artifactUrl, str(values, "title")));
    return 0;
}
