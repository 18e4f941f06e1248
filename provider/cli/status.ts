/** `imagine-video status ID...`: each video's status, created time, and whether its file link still answers (the link never shown). */
import { probeFile } from "../deletion/delete-verification";
import { ImagineError, ImagineVideoNotFoundError } from "../core/errors";
import { API_OPTIONS, parse, str, UsageError } from "./args";
import { connect, settingsFrom } from "./context";
import { argSource, collectIds, fileSource } from "./ids";
import { CliIo, Output } from "./io";

export const STATUS_HELP = `Usage: imagine-video status ID... | --ids-file FILE|-  [--json]

For each video: its status (processing, finished, failed, or not-found), when the vendor created it,
and whether its file link still answers (the link itself is never printed). One status read per video.

Options: --ids-file FILE, --json, --base-url URL, --requests-per-minute N, --request-timeout-seconds N, --verbose
Exit: 0 every video was looked up (not-found included), 1 some lookups failed (each named), 2 bad usage.`;

export async function statusCommand(argv: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parse(argv, { ...API_OPTIONS, "ids-file": { type: "string" } });
    const out = new Output(io, values.json === true);
    if (values.help) {
        io.stdout.write(STATUS_HELP + "\n");
        return 0;
    }
    const idsFile = str(values, "ids-file");
    if ((idsFile === undefined) === (positionals.length === 0)) {
        throw new UsageError("give ids as arguments or --ids-file FILE (not both).");
    }
    const settings = settingsFrom(values, io.env);
    const ids = await collectIds(
        idsFile !== undefined ? fileSource(idsFile, io.cwd, io.stdin) : argSource(positionals),
    );
    const api = connect(settings, out, values.verbose === true);
    let failures = 0;
    try {
        for await (const id of ids.ids()) {
            try {
                const s = await api.client.getStatus(id, io.clock.now() + settings.deleteTimeoutMs);
                const file = s.videoUrl ? await probeFile(s.videoUrl, settings.requestTimeoutMs) : "no-link";
                const fileText = {
                    gone: "file link gone",
                    present: "file link answers",
                    unknown: "file link does not answer",
                    "no-link": "no file link",
                }[file];
                out.event({
                    id,
                    status: s.state,
                    vendorStatus: s.vendorStatus ?? null,
                    createdAt: s.createdAt ?? null,
                    file,
                });
                out.line(`${id}  ${s.state.padEnd(10)}  created ${s.createdAt ?? "unknown"}  ${fileText}`);
            } catch (e) {
                if (e instanceof ImagineVideoNotFoundError) {
                    out.event({ id, status: "not-found" });
                    out.line(`${id}  not-found   (the API knows no such video for this key)`);
                    continue;
                }
                failures++;
                const message = e instanceof ImagineError ? e.message : String((e as Error)?.message ?? e);
                out.event({ id, status: "error", error: message });
                out.error(`failed ${id}: ${message}`);
            }
        }
    } finally {
        ids.dispose();
        await api.close();
    }
    return failures > 0 ? 1 : 0;
}
