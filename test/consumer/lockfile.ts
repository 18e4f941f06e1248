/**
 * Builds the package-lock.json of a program that installs this repository's tarballs, from the
 * repository's own lockfile: the same pinned versions and integrity hashes, so `npm ci --offline`
 * installs it from the cache that the repository's `npm ci` filled (no registry needed).
 */
import { createHash } from "crypto";
import * as fs from "fs";

interface LockEntry {
    version?: string;
    resolved?: string;
    integrity?: string;
    link?: boolean;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    [key: string]: unknown;
}

export interface Lockfile {
    name: string;
    version: string;
    lockfileVersion: 3;
    requires: true;
    packages: Record<string, LockEntry>;
}

/** A tarball to install under `name`, with its package.json (dependencies and peers). */
export interface Tarball {
    name: string;
    /** Path of the .tgz relative to the program folder, as written in its package.json (`file:<path>`). */
    file: string;
    absolutePath: string;
    manifest: {
        version: string;
        bin?: Record<string, string>;
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
        peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
}

/** The folder that holds `key` in a lockfile's tree ("node_modules/a/node_modules/b" -> "node_modules/a"). */
function parentOf(key: string): string {
    const i = key.lastIndexOf("/node_modules/");
    return i < 0 ? "" : key.slice(0, i);
}

/**
 * The lockfile of a program depending on `registryDeps` (name -> exact version, found in the repository's
 * lockfile) and on `tarballs`: every package they need, resolved as Node resolves them in the
 * repository's (hoisted) tree.
 */
export function consumerLockfile(
    repoLock: Lockfile,
    registryDeps: Record<string, string>,
    tarballs: Tarball[],
): Lockfile {
    const source = repoLock.packages;
    const packages: Record<string, LockEntry> = {};
    const visit = (from: string, name: string, optional: boolean): void => {
        for (let base = from; ; base = parentOf(base)) {
            const key = `${base ? base + "/" : ""}node_modules/${name}`;
            const entry = source[key];
            if (entry && !entry.link) {
                if (!packages[key]) {
                    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = entry;
                    packages[key] = kept;
                    visitDependencies(key, entry);
                }
                return;
            }
            if (base === "") break;
        }
        if (!optional)
            throw new Error(`${name} (needed by ${from || "the program"}) is not in the repository's lockfile`);
    };
    const visitDependencies = (key: string, entry: LockEntry): void => {
        for (const dep of Object.keys(entry.dependencies ?? {})) visit(key, dep, false);
        for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(key, dep, true);
        // npm installs no optional peer (ioredis, for one, only with imagine:redisUrl).
        for (const dep of Object.keys(entry.peerDependencies ?? {}))
            if (entry.peerDependenciesMeta?.[dep]?.optional !== true) visit(key, dep, false);
    };

    for (const name of Object.keys(registryDeps)) visit("", name, false);
    for (const t of tarballs) {
        const entry: LockEntry = {
            version: t.manifest.version,
            resolved: `file:${t.file}`,
            integrity: "sha512-" + createHash("sha512").update(fs.readFileSync(t.absolutePath)).digest("base64"),
            // npm links bins from what the lockfile says, not from the unpacked package.json.
            ...(t.manifest.bin ? { bin: t.manifest.bin } : {}),
            ...(t.manifest.dependencies ? { dependencies: t.manifest.dependencies } : {}),
            ...(t.manifest.peerDependencies ? { peerDependencies: t.manifest.peerDependencies } : {}),
            ...(t.manifest.peerDependenciesMeta ? { peerDependenciesMeta: t.manifest.peerDependenciesMeta } : {}),
        };
        packages[`node_modules/${t.name}`] = entry;
        visitDependencies("", entry);
    }
    const dependencies = { ...registryDeps, ...Object.fromEntries(tarballs.map((t) => [t.name, `file:${t.file}`])) };
    return {
        name: "consumer",
        version: "1.0.0",
        lockfileVersion: 3,
        requires: true,
        packages: { "": { name: "consumer", version: "1.0.0", dependencies }, ...sortKeys(packages) },
    };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
    return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
