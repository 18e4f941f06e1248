/**
 * Bytes of the generated outputs: an MP4-shaped video file (ftyp + mdat boxes) and a real PNG thumbnail,
 * both deterministic for a video id. Also the magic-byte check for uploaded images.
 */
import { createHash } from "node:crypto";
import { deflateSync } from "node:zlib";

function box(type: string, payload: Buffer): Buffer {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(8 + payload.length, 0);
    header.write(type, 4, "latin1");
    return Buffer.concat([header, payload]);
}

function pseudoRandom(seed: string, length: number): Buffer {
    const out = Buffer.alloc(length);
    let block = createHash("sha256").update(seed).digest();
    for (let offset = 0; offset < length; offset += block.length) {
        block.copy(out, offset, 0, Math.min(block.length, length - offset));
        block = createHash("sha256").update(block).digest();
    }
    return out;
}

export function videoBytes(id: string, size: number): Buffer {
    const ftyp = box(
        "ftyp",
        Buffer.concat([
            Buffer.from("isom", "latin1"),
            Buffer.from([0, 0, 2, 0]),
            Buffer.from("isomiso2mp41", "latin1"),
        ]),
    );
    const mdatPayload = Math.max(0, size - ftyp.length - 8);
    return Buffer.concat([ftyp, box("mdat", pseudoRandom(id, mdatPayload))]);
}

const CRC_TABLE = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
        let c = n;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        table[n] = c >>> 0;
    }
    return table;
})();

function crc32(buf: Buffer): number {
    let c = 0xffffffff;
    for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length, 0);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body), 0);
    return Buffer.concat([length, body, crc]);
}

export const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

/** A 64x36 RGB PNG whose colours derive from the id. */
export function thumbnailBytes(id: string): Buffer {
    const width = 64;
    const height = 36;
    const [r0, g0, b0] = createHash("sha256").update(id).digest();
    const raw = Buffer.alloc((width * 3 + 1) * height);
    for (let y = 0; y < height; y++) {
        const row = y * (width * 3 + 1);
        raw[row] = 0; // filter: none
        for (let x = 0; x < width; x++) {
            raw[row + 1 + x * 3] = (r0 + x * 3) & 0xff;
            raw[row + 2 + x * 3] = (g0 + y * 5) & 0xff;
            raw[row + 3 + x * 3] = b0;
        }
    }
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 2; // colour type: RGB
    return Buffer.concat([
        PNG_MAGIC,
        pngChunk("IHDR", ihdr),
        pngChunk("IDAT", deflateSync(raw)),
        pngChunk("IEND", Buffer.alloc(0)),
    ]);
}

/** "png" or "jpg" from the magic bytes, or undefined if the bytes are neither. */
export function imageKind(bytes: Buffer): "png" | "jpg" | undefined {
    if (bytes.length >= PNG_MAGIC.length && bytes.subarray(0, PNG_MAGIC.length).equals(PNG_MAGIC)) return "png";
    if (bytes.length >= JPEG_MAGIC.length && bytes.subarray(0, JPEG_MAGIC.length).equals(JPEG_MAGIC)) return "jpg";
    return undefined;
}
