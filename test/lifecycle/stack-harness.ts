/** Shared by the lifecycle tests: a stack of Video resources, run by the engine stand-in against its own emulator. */
import axios from "axios";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EmulatorOptions, RunningEmulator, startEmulator } from "imagine-api-emulator";
import { EngineStack, OperationResult, ResourceState } from "../engine";

/** The API key of every lifecycle stack. */
export const TOKEN = "vk-lifecycleCANARY0123456789abcdefghijklmnopqrstu";
export const FIXTURE = path.join(__dirname, "fixtures", "videos");
export const VIDEO_TYPE = "pulumi-nodejs:dynamic/imagine:Video";

export interface VideoSpec {
    name: string;
    prompt?: string;
    style?: string;
    imagePath?: string;
    adoptVideoId?: string;
    timeoutMinutes?: number;
    waitForCompletion?: boolean;
    /** The resource option `protect`. */
    protect?: boolean;
}

/**
 * The provider's stack config against an emulator that makes a 12-minute video in 0.5 s (processing 720 s
 * at clock speed 1440): expect it then, and allow the requests.
 */
export function acceleratedConfig(token: string, url: string): Record<string, { value: string; secret?: boolean }> {
    return {
        "imagine:apiToken": { value: token, secret: true },
        "imagine:baseUrl": { value: url },
        "imagine:expectedMinutes": { value: "0.006" },
        "imagine:requestsPerMinute": { value: "60000" },
        "imagine:minPollSeconds": { value: "0.1" },
        "imagine:maxPollSeconds": { value: "0.3" },
    };
}

/** A stack of Video resources against its own emulator, in a temp folder. */
export class VideoStack {
    readonly stack: EngineStack;
    readonly statePath: string;
    /** Optional: each line the program host or provider host writes, live (e.g. to kill on a progress line). */
    onLine?: (line: string, source: "program" | "provider") => void;
    constructor(
        readonly emulator: RunningEmulator,
        readonly dir: string,
        programDir: string,
        config: Record<string, string>,
        stackName = "test",
        statePath = path.join(dir, stackName === "test" ? "state.json" : `state-${stackName}.json`),
    ) {
        this.statePath = statePath;
        this.stack = new EngineStack({
            programDir,
            onOutput: (line, source) => this.onLine?.(line, source),
            // Like the CLI: the project is the `name` of the program's Pulumi.yaml.
            projectName: /^name:\s*(\S+)/m.exec(fs.readFileSync(path.join(programDir, "Pulumi.yaml"), "utf8"))![1],
            stackName,
            statePath: this.statePath,
            passphrase: "lifecycle passphrase",
            timeoutMs: 90_000,
            // Scenario programs are type-checked by `tsc` in the build; skip ts-node's check per run.
            env: { PULUMI_NODEJS_TRANSPILE_ONLY: "true", IMAGINE_API_TOKEN: "", IMAGINE_BASE_URL: "" },
            config: {
                ...acceleratedConfig(TOKEN, emulator.url),
                "imagine:deleteTimeoutMinutes": { value: "0.5" },
                // The ledger of accepted generations in this stack's temp folder, not in the shared fixture folder.
                "imagine:ledgerPath": { value: path.join(dir, "ledger.jsonl") },
                ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, { value: v }])),
            },
        });
    }

    setVideos(videos: VideoSpec[]): void {
        this.stack.setConfig("videos:videos", { value: JSON.stringify(videos) });
    }

    videos(): ResourceState[] {
        return fs.existsSync(this.statePath)
            ? this.stack.decryptedState().deployment.resources.filter((r) => r.type === VIDEO_TYPE)
            : [];
    }

    /** The emulator's own view of a video: 200 with its status, or 404 when it does not exist. */
    async vendorStatus(id: string): Promise<number> {
        const r = await axios.get(`${this.emulator.url}/v2/video/${id}/status`, {
            headers: { Authorization: `Bearer ${TOKEN}` },
            validateStatus: () => true,
        });
        return r.status;
    }
}

export async function startVideoStack(
    videos: VideoSpec[],
    emulatorOptions: Partial<EmulatorOptions> = {},
    programDir = FIXTURE,
    config: Record<string, string> = {},
) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-lifecycle-"));
    const emulator = await startEmulator({
        dataDir: path.join(dir, "emulator"),
        tokens: [TOKEN],
        processingSeconds: 720,
        clockSpeed: 1440,
        ...emulatorOptions,
    });
    const s = new VideoStack(emulator, dir, programDir, config);
    if (programDir === FIXTURE) s.setVideos(videos);
    return {
        s,
        stop: async () => {
            await emulator.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** Fails with the operation's errors and output when it did not succeed. */
export function expectOk(r: OperationResult): OperationResult {
    if (!r.ok) {
        throw new Error(`operation failed: ${r.errors.join("\n")}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
    }
    return r;
}

export const opsOf = (r: OperationResult, type = VIDEO_TYPE) =>
    r.steps
        .filter((s) => s.type === type)
        .map((s) => `${s.op} ${s.name}`)
        .sort();
