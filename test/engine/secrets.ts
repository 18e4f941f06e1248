// Secret values: the RPC sentinel the SDK and provider host use, and the passphrase encryption the
// checkpoint uses (AES-256-GCM, key derived with scrypt from the stack passphrase and a stored salt).
import * as crypto from "crypto";

export const SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface RpcSecret {
    [SPECIAL_SIG_KEY]: string;
    value: unknown;
}

export function isSecret(v: unknown): v is RpcSecret {
    return typeof v === "object" && v !== null && (v as any)[SPECIAL_SIG_KEY] === SECRET_SIG && "value" in v;
}

export function makeSecret(value: unknown): unknown {
    return isSecret(value) ? value : { [SPECIAL_SIG_KEY]: SECRET_SIG, value };
}

/** Deep copy with every secret wrapper replaced by its plain value (what a provider that does not accept secrets gets). */
export function stripSecrets(v: unknown): unknown {
    if (isSecret(v)) return stripSecrets(v.value);
    if (Array.isArray(v)) return v.map(stripSecrets);
    if (v && typeof v === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = stripSecrets(x);
        return out;
    }
    return v;
}

export function containsSecret(v: unknown): boolean {
    if (isSecret(v)) return true;
    if (Array.isArray(v)) return v.some(containsSecret);
    if (v && typeof v === "object") return Object.values(v).some(containsSecret);
    return false;
}

export class Crypter {
    private readonly key: Buffer;
    constructor(
        passphrase: string,
        readonly salt: string,
    ) {
        this.key = crypto.scryptSync(passphrase, Buffer.from(salt, "base64"), 32);
    }
    static newSalt(): string {
        return crypto.randomBytes(16).toString("base64");
    }
    encrypt(plaintext: string): string {
        const iv = crypto.randomBytes(12);
        const c = crypto.createCipheriv("aes-256-gcm", this.key, iv);
        const ct = Buffer.concat([c.update(plaintext, "utf8"), c.final(), c.getAuthTag()]);
        return `v1:${iv.toString("base64")}:${ct.toString("base64")}`;
    }
    decrypt(ciphertext: string): string {
        const [v, ivb, ctb] = ciphertext.split(":");
        if (v !== "v1" || !ivb || !ctb) throw new Error("unrecognized secret ciphertext format");
        const data = Buffer.from(ctb, "base64");
        const d = crypto.createDecipheriv("aes-256-gcm", this.key, Buffer.from(ivb, "base64"));
        d.setAuthTag(data.subarray(data.length - 16));
        try {
            return Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]).toString("utf8");
        } catch {
            throw new Error("failed to decrypt a secret in the checkpoint: incorrect passphrase?");
        }
    }
    /** Deep copy where each in-memory secret {sig, value} becomes {sig, ciphertext}. */
    encryptValue(v: unknown): unknown {
        if (isSecret(v))
            return { [SPECIAL_SIG_KEY]: SECRET_SIG, ciphertext: this.encrypt(JSON.stringify(v.value ?? null)) };
        if (Array.isArray(v)) return v.map((x) => this.encryptValue(x));
        if (v && typeof v === "object") {
            const out: Record<string, unknown> = {};
            for (const [k, x] of Object.entries(v)) out[k] = this.encryptValue(x);
            return out;
        }
        return v;
    }
    /** Inverse of encryptValue. */
    decryptValue(v: unknown): unknown {
        if (
            v &&
            typeof v === "object" &&
            !Array.isArray(v) &&
            (v as any)[SPECIAL_SIG_KEY] === SECRET_SIG &&
            "ciphertext" in v
        ) {
            return makeSecret(JSON.parse(this.decrypt((v as any).ciphertext)));
        }
        if (Array.isArray(v)) return v.map((x) => this.decryptValue(x));
        if (v && typeof v === "object") {
            const out: Record<string, unknown> = {};
            for (const [k, x] of Object.entries(v)) out[k] = this.decryptValue(x);
            return out;
        }
        return v;
    }
}
