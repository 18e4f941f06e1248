/**
 * `imagine-video`: the Delete API from a terminal (privacy requests, cleanup jobs, audits), with the
 * provider's own client, budget, verification and receipts. Dispatches a command; maps failures to the
 * exit codes: 0 all done, 1 some failed (each named), 2 bad usage or configuration (before any API
 * call), 130 interrupted.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ImagineConfigError } from "../core/errors";
import { UsageError } from "./args";
import { deleteCommand } from "./delete";
import { doctorCommand } from "./doctor";
import { downloadCommand } from "./download";
import { janitorCommand } from "./janitor";
import { previewCommentCommand } from "./preview-comment";
import { CliIo, Output, processIo } from "./io";
import { MalformedIdsError } from "./ids";
import { receiptsCommand } from "./receipts";
import { statusCommand } from "./status";
import { sweepCommand } from "./sweep";

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
    delete: deleteCommand,
    status: statusCommand,
    download: downloadCommand,
    sweep: sweepCommand,
    receipts: receiptsCommand,
    doctor: doctorCommand,
    janitor: (argv, io) => janitorCommand(argv, io),
    "preview-comment": previewCommentCommand,
};

export const HELP = `Usage: imagine-video COMMAND [options]

The Imagine video API from a terminal: verified deletes with receipts, status, downloads, audits.
Settings come from the provider's environment variables (IMAGINE_API_TOKEN, IMAGINE_BASE_URL,
IMAGINE_REDIS_URL, IMAGINE_REQUESTS_PER_MINUTE, IMAGINE_DELETION_LOG, ...); flags override them.
There is no token flag: set IMAGINE_API_TOKEN.

Commands:
  delete ID... | --ids-file FILE|-   delete videos (verified), a receipt for each
  status ID...                       status, created time, whether the file link answers
  download ID... --to DIR            download each video (and thumbnail) to DIR/<id>.mp4
  sweep [--older-than 2h]            delete the ledger's generations that no stack holds
  receipts [--verify]                list receipts; --verify checks each video is still gone
  doctor                             check the token, endpoint, Redis, ledger path and versions
  janitor --stack-prefix pr- --ttl-hours 72 --github-repo OWNER/REPO
                                     destroy and remove preview stacks whose pull request closed or that idled
  preview-comment --outputs FILE --downloads DIR --artifact-url URL
                                     the Markdown of a preview's pull-request comment (no signed link)

imagine-video COMMAND --help shows a command's options; imagine-video --version its version.
Exit codes: 0 done, 1 some failed (each named), 2 bad usage or configuration, 130 interrupted.
Reference: docs/cli.md`;

/** This package's version (package.json, found upward from this file, in the repository or installed). */
export function packageVersion(): string {
    let dir = __dirname;
    for (;;) {
        const file = path.join(dir, "package.json");
        if (fs.existsSync(file)) {
            const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
            if (pkg.name === "pulumi-imagine-video") return pkg.version ?? "unknown";
        }
        const up = path.dirname(dir);
        if (up === dir) return "unknown";
        dir = up;
    }
}

/** Runs one command line; resolves its exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
    const out = new Output(io, false);
    const [command, ...rest] = argv;
    try {
        if (command === undefined || command === "--help" || command === "-h" || command === "help") {
            io.stdout.write(HELP + "\n");
            return command === undefined ? 2 : 0;
        }
        if (command === "--version" || command === "-v") {
            io.stdout.write(`imagine-video ${packageVersion()}\n`);
            return 0;
        }
        const run = COMMANDS[command];
        if (!run) {
            throw new UsageError(`unknown command "${command}". Commands: ${Object.keys(COMMANDS).join(", ")}.`);
        }
        return await run(rest, io);
    } catch (e) {
        if (e instanceof UsageError) {
            out.error(
                `imagine-video: ${e.message}\nRun \`imagine-video ${COMMANDS[command ?? ""] ? `${command} ` : ""}--help\` for usage.`,
            );
            return 2;
        }
        if (e instanceof ImagineConfigError || e instanceof MalformedIdsError) {
            out.error(`imagine-video: ${e.message}`);
            return 2;
        }
        out.error(`imagine-video: ${(e as Error)?.message ?? String(e)}`);
        return 1;
    }
}

/** The bin: process streams, Ctrl-C (once: stop and finish; twice: quit), the exit code. */
export function main(): void {
    const io = processIo();
    const handlers = new Set<() => void>();
    let count = 0;
    process.on("SIGINT", () => {
        count++;
        if (count > 1 || handlers.size === 0) {
            process.exit(130);
        }
        handlers.forEach((h) => h());
    });
    io.onInterrupt = (h) => {
        handlers.add(h);
        return () => handlers.delete(h);
    };
    void runCli(process.argv.slice(2), io).then((code) => {
        // Flush stdout before exiting (a pipe may still hold the last lines).
        process.stdout.write("", () => process.exit(code));
    });
}
