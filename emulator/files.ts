/**
 * The video files on disk, under <dataDir>/videos/<id>/. Every write goes to a temp file in the same
 * folder, is fsynced, then renamed, so a kill -9 never leaves a half-written file under a real name.
 */
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { thumbnailBytes, videoBytes } from "./media";

export const OUTPUT_NAMES = ["video.mp4", "thumbnail.png"] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

export class VideoFiles {
    readonly root: string;

    constructor(dataDir: string) {
        this.root = path.join(dataDir, "videos");
        fs.mkdirSync(this.root, { recursive: true });
    }

    /** The folder of a video; ids are validated before they get here, the check is a second guard. */
    dirOf(id: string): string {
        const dir = path.join(this.root, id);
        if (path.dirname(dir) !== this.root) throw new Error("invalid video id");
        return dir;
    }

    pathOf(id: string, name: string): string {
        return path.join(this.dirOf(id), name);
    }

    private writeAtomic(file: string, bytes: Buffer): void {
        const tmp = path.join(path.dirname(file), `.tmp-${randomBytes(6).toString("hex")}`);
        const fd = fs.openSync(tmp, "w");
        try {
            fs.writeSync(fd, bytes);
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        fs.renameSync(tmp, file);
    }

    /** Stores the uploaded source image; returns its file name. */
    writeInput(id: string, bytes: Buffer, ext: "png" | "jpg"): string {
        fs.mkdirSync(this.dirOf(id), { recursive: true });
        const name = `input.${ext}`;
        this.writeAtomic(this.pathOf(id, name), bytes);
        return name;
    }

    /** Writes the generated video and thumbnail (idempotent); returns the bytes now on disk for the video. */
    writeOutputs(id: string, videoSize: number): number {
        fs.mkdirSync(this.dirOf(id), { recursive: true });
        this.writeAtomic(this.pathOf(id, "video.mp4"), videoBytes(id, videoSize));
        this.writeAtomic(this.pathOf(id, "thumbnail.png"), thumbnailBytes(id));
        return this.bytesOf(id);
    }

    bytesOf(id: string): number {
        let total = 0;
        for (const entry of fs.readdirSync(this.dirOf(id), { withFileTypes: true })) {
            if (entry.isFile() && !entry.name.startsWith(".tmp-"))
                total += fs.statSync(this.pathOf(id, entry.name)).size;
        }
        return total;
    }

    remove(id: string): void {
        fs.rmSync(this.dirOf(id), { recursive: true, force: true });
    }

    /** Removes folders of videos the store does not know (left by a crash between file and row writes) and stray temp files. */
    sweep(knownIds: Set<string>): void {
        for (const entry of fs.readdirSync(this.root, { withFileTypes: true })) {
            const full = path.join(this.root, entry.name);
            if (!entry.isDirectory() || !knownIds.has(entry.name)) {
                fs.rmSync(full, { recursive: true, force: true });
                continue;
            }
            for (const inner of fs.readdirSync(full)) {
                if (inner.startsWith(".tmp-")) fs.rmSync(path.join(full, inner), { force: true });
            }
        }
    }
}
