/**
 * The CLI: imagine-emulator --port 0 --data-dir DIR --token KEY [--token KEY2] [switches].
 * First stdout line, once accepting connections: "imagine-emulator listening on http://127.0.0.1:PORT".
 * Exits 0 on SIGTERM and SIGINT, and when started by npm (npx, npm run) once npm's process is gone.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { startEmulator } from "./server";
import {
    describeDefault,
    kebabCase,
    parseSwitchText,
    SWITCH_NAMES,
    SWITCH_SPECS,
    SwitchError,
    type Switches,
} from "./options";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

function optionTable(): OptionSpec {
    const options: OptionSpec = {
        port: { type: "string" },
        "data-dir": { type: "string" },
        dataDir: { type: "string" },
        token: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
    };
    for (const name of SWITCH_NAMES) {
        const type = SWITCH_SPECS[name].kind === "boolean" ? "boolean" : "string";
        options[kebabCase(name)] = { type, multiple: type === "string" };
        if (kebabCase(name) !== name) options[name] = { type, multiple: type === "string" };
    }
    return options;
}

export function helpText(): string {
    const lines = [
        "Usage: imagine-emulator --data-dir DIR --token KEY [--token KEY2 ...] [--port N] [switches]",
        "",
        "A local emulator of the Imagine video API (api.vyro.ai /v2) on 127.0.0.1.",
        "First stdout line once it accepts connections: imagine-emulator listening on http://127.0.0.1:PORT",
        "",
        "  --port N                      TCP port on 127.0.0.1 (default 0 = a free port)",
        "  --data-dir DIR                folder for the SQLite state and video files (required)",
        "  --token KEY                   an accepted API key; repeat for more keys (required)",
        "  -h, --help                    this text",
        "",
        "Switches (kebab-case or camelCase; lists are comma-separated or repeated):",
    ];
    for (const name of SWITCH_NAMES) {
        const flag = `--${kebabCase(name)}${SWITCH_SPECS[name].kind === "boolean" ? "" : " V"}`;
        lines.push(`  ${flag.padEnd(30)}${SWITCH_SPECS[name].help} (default ${describeDefault(name)})`);
    }
    return lines.join("\n") + "\n";
}

interface CliConfig {
    port: number;
    dataDir: string;
    tokens: string[];
    switches: Partial<Switches>;
}

export function parseCli(argv: string[]): CliConfig | "help" {
    const { values } = parseArgs({ args: argv, options: optionTable(), strict: true, allowPositionals: false });
    const v = values as Record<string, string | string[] | boolean | undefined>;
    if (v.help) return "help";
    const dataDir = (v["data-dir"] ?? v.dataDir) as string | undefined;
    const tokens = (v.token ?? []) as string[];
    if (!dataDir) throw new SwitchError("--data-dir is required");
    if (tokens.length === 0) throw new SwitchError("at least one --token is required");
    const port = Number(v.port ?? "0");
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SwitchError("--port must be an integer 0-65535");
    const switches: Record<string, unknown> = {};
    for (const name of SWITCH_NAMES) {
        const given = v[kebabCase(name)] ?? v[name];
        if (given === undefined) continue;
        switches[name] = typeof given === "boolean" ? given : parseSwitchText(name, given as string[]);
    }
    return { port, dataDir, tokens, switches };
}

export async function main(argv: string[]): Promise<void> {
    let config: CliConfig | "help";
    try {
        config = parseCli(argv);
    } catch (err) {
        process.stderr.write(`imagine-emulator: ${(err as Error).message}\nTry --help.\n`);
        process.exitCode = 2;
        return;
    }
    if (config === "help") {
        process.stdout.write(helpText());
        return;
    }
    const emulator = await startEmulator({
        dataDir: config.dataDir,
        tokens: config.tokens,
        port: config.port,
        ...config.switches,
    });
    process.stdout.write(`imagine-emulator listening on ${emulator.url}\n`);
    let stopping = false;
    const shutdown = () => {
        if (stopping) return;
        stopping = true;
        emulator.stop().then(
            () => process.exit(0),
            () => process.exit(1),
        );
    };
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
    // npx and `npm run` start the CLI through `sh -c`: `kill $!` after `npx imagine-emulator ... &` stops npm
    // and that shell, not this process, which would be left running. Under npm, being orphaned means stop.
    if (process.env.npm_command) stopWhenOrphaned(shutdown);
}

/** Calls `stop` once this process's parent has exited (it is then re-parented); checks twice a second. */
export function stopWhenOrphaned(stop: () => void, intervalMs = 500): NodeJS.Timeout {
    const parent = process.ppid;
    const timer = setInterval(() => {
        if (process.ppid !== parent) {
            clearInterval(timer);
            stop();
        }
    }, intervalMs);
    timer.unref();
    return timer;
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((err: unknown) => {
        process.stderr.write(`imagine-emulator: ${(err as Error).message}\n`);
        process.exit(1);
    });
}
