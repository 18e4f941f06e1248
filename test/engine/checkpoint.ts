// The JSON checkpoint, shaped like `pulumi stack export`: {version, deployment: {manifest,
// secrets_providers, resources}}. In memory secrets are RPC sentinels {sig, value}; on disk they are
// {sig, ciphertext}. Writes are atomic (temp file + rename).
import * as fs from "fs";
import * as path from "path";
import { Crypter } from "./secrets";

export interface ResourceState {
    urn: string;
    custom: boolean;
    type: string;
    id?: string;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
    parent?: string;
    provider?: string;
    dependencies: string[];
    propertyDependencies?: Record<string, string[]>;
    protect?: boolean;
    retainOnDelete?: boolean;
    external?: boolean;
    /** A replaced resource waiting for its delete (create-before-delete). */
    delete?: boolean;
    additionalSecretOutputs?: string[];
    initErrors?: string[];
}

export interface Checkpoint {
    version: 3;
    deployment: {
        manifest: { time: string; magic: string; version: string };
        secrets_providers: { type: "passphrase"; state: { salt: string } };
        resources: ResourceState[];
    };
}

export function emptyCheckpoint(): Checkpoint {
    return {
        version: 3,
        deployment: {
            manifest: { time: new Date().toISOString(), magic: "engine-stand-in", version: "test-engine" },
            secrets_providers: { type: "passphrase", state: { salt: Crypter.newSalt() } },
            resources: [],
        },
    };
}

/** Reads the raw (encrypted) checkpoint, or an empty one when the file does not exist. */
export function readRawCheckpoint(file: string): Checkpoint {
    if (!fs.existsSync(file)) return emptyCheckpoint();
    return JSON.parse(fs.readFileSync(file, "utf8")) as Checkpoint;
}

export function crypterFor(cp: Checkpoint, passphrase: string): Crypter {
    return new Crypter(passphrase, cp.deployment.secrets_providers.state.salt);
}

export function decryptCheckpoint(cp: Checkpoint, c: Crypter): Checkpoint {
    return c.decryptValue(cp) as Checkpoint;
}

export function writeCheckpoint(file: string, cp: Checkpoint, c: Crypter): void {
    const onDisk = c.encryptValue({
        ...cp,
        deployment: { ...cp.deployment, manifest: { ...cp.deployment.manifest, time: new Date().toISOString() } },
    });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(onDisk, null, 2));
    fs.renameSync(tmp, file);
}
