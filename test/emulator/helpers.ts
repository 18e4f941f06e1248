/** Shared helpers of the emulator tests: a started emulator on a temp folder, and vendor calls over real HTTP. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "imagine-api-emulator";

export const KEY = "vk-test0000000000000000000000000000000000000001";
export const OTHER_KEY = "vk-test0000000000000000000000000000000000000002";

/** A tiny but real PNG (1x1) and JPEG header bytes: enough for the magic-byte check. */
export const PNG = Buffer.from(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082",
    "hex",
);
export const JPEG = Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
    Buffer.alloc(200, 7),
    Buffer.from([0xff, 0xd9]),
]);

const createdDirs: string[] = [];

/** A fresh data folder; every folder made by a test file is removed after that file's tests. */
export function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imagine-emu-"));
    createdDirs.push(dir);
    return dir;
}

afterAll(() => {
    for (const dir of createdDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A controllable real clock for the emulator (ms). */
export class FakeClock {
    constructor(public ms = Date.parse("2025-03-04T07:09:25.048Z")) {}
    readonly now = () => this.ms;
    advance(seconds: number): void {
        this.ms += seconds * 1000;
    }
}

export interface Harness {
    emu: RunningEmulator;
    dataDir: string;
    stop(): Promise<void>;
}

export async function start(options: Partial<EmulatorOptions> = {}): Promise<Harness> {
    const dataDir = options.dataDir ?? tempDir();
    const emu = await startEmulator({ tokens: [KEY, OTHER_KEY], ...options, dataDir });
    return { emu, dataDir, stop: () => emu.stop() };
}

export interface Answer {
    status: number;
    headers: Headers;
    text: string;
    json: any;
}

export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
    const response = await fetch(url, init);
    const text = await response.text();
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch {
        json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
}

export function auth(key = KEY): Record<string, string> {
    return { authorization: `Bearer ${key}` };
}

export function form(fields: Record<string, string>, files: Record<string, Buffer> = {}): FormData {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    for (const [name, bytes] of Object.entries(files)) body.append(name, new Blob([bytes]), `${name}.bin`);
    return body;
}

export async function textToVideo(
    emu: RunningEmulator,
    fields: Record<string, string> = {},
    key = KEY,
): Promise<Answer> {
    return call(`${emu.url}/v2/video/text-to-video`, {
        method: "POST",
        headers: auth(key),
        body: form({ prompt: "a red fox in the snow", style: "kling-1.0-pro", ...fields }),
    });
}

export async function createVideo(
    emu: RunningEmulator,
    fields: Record<string, string> = {},
    key = KEY,
): Promise<string> {
    const answer = await textToVideo(emu, fields, key);
    if (answer.status !== 200) throw new Error(`create failed: ${answer.status} ${answer.text}`);
    return answer.json.id as string;
}

export async function status(
    emu: RunningEmulator,
    id: string,
    key = KEY,
    pathForm = `/v2/video/${id}/status`,
    method = "GET",
): Promise<Answer> {
    return call(emu.url + pathForm, { method, headers: auth(key) });
}

export async function remove(emu: RunningEmulator, id: string, key = KEY, method = "DELETE"): Promise<Answer> {
    return call(`${emu.url}/v2/video/delete/${id}`, { method, headers: auth(key) });
}

/** Asserts the documented error body and returns it. */
export function expectError(answer: Answer, http: number, code: number | string): void {
    expect({ status: answer.status, body: answer.json }).toEqual({
        status: http,
        body: { status: "error", code, error: expect.any(String), message: expect.any(String) },
    });
}

/** Files under the data folder's videos/ tree (relative paths). */
export function filesOnDisk(dataDir: string): string[] {
    const root = path.join(dataDir, "videos");
    if (!fs.existsSync(root)) return [];
    return (fs.readdirSync(root, { recursive: true }) as string[]).filter((p) =>
        fs.statSync(path.join(root, p)).isFile(),
    );
}

/** Creates a video and moves `clock` past its processing time; returns its signed file URLs. */
export async function finishedVideo(
    emu: RunningEmulator,
    clock: FakeClock,
    processingSeconds: number,
): Promise<{ id: string; generation: string; thumbnail: string }> {
    const id = await createVideo(emu);
    clock.advance(processingSeconds + 1);
    const video = (await status(emu, id)).json.video;
    if (video.status !== "finished") throw new Error(`video ${id} is ${video.status}, not finished`);
    return { id, generation: video.url.generation, thumbnail: video.url.thumbnail };
}
