/**
 * Packing this repository as a user receives it, and installing it into programs outside the repository:
 * `npm pack` of a workspace, npm's environment without that of the npm running us, the versions the
 * repository's lockfile pins, and the emulator's SQLite binary as a local prebuild. Shared by the
 * consumer test and `npm run test:compat` (scripts/compat.ts).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Lockfile, Tarball } from "./lockfile";

export const ROOT = path.resolve(__dirname, "../..");

/** The repository's package-lock.json. */
export function repoLockfile(): Lockfile {
    return JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
}

/** The version of `name` that the repository's lockfile installs at the top of node_modules. */
export function lockedVersion(name: string, lock: Lockfile = repoLockfile()): string {
    return lock.packages[`node_modules/${name}`].version!;
}

/** An environment for npm without the variables of the npm that runs this test (workspace, prefix...). */
export function npmEnv(): NodeJS.ProcessEnv {
    const env = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || /^npm_config_cache$/i.test(k)),
    );
    return { ...env, npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
}

/**
 * better-sqlite3 (the emulator's store) installs through its own install script, prebuild-install, which
 * looks for a prebuilt binary before it compiles one. This machine reaches no binary host, so the test
 * hands it the binary that the repository's `npm ci` compiled for this Node, as a local prebuild
 * (prebuild-install's own offline mechanism, as a CI cache would): the install script runs as a user's
 * does, without compiling SQLite a second time. Returns the variables that point npm's install at it.
 */
export function localPrebuild(dir: string): NodeJS.ProcessEnv {
    const moduleDir = path.join(ROOT, "node_modules", "better-sqlite3");
    const { version } = JSON.parse(fs.readFileSync(path.join(moduleDir, "package.json"), "utf8")) as {
        version: string;
    };
    const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    fs.mkdirSync(dir, { recursive: true });
    execFileSync("tar", ["-czf", path.join(dir, name), "-C", moduleDir, "build/Release/better_sqlite3.node"]);
    return { npm_config_better_sqlite3_local_prebuilds: dir };
}

/** `npm pack --ignore-scripts` of the repository (`args` e.g. `--workspace <name>`) into `destination`. */
export function pack(args: string[], destination: string): Tarball {
    const out = execFileSync(
        "npm",
        ["pack", "--ignore-scripts", "--silent", "--pack-destination", destination, ...args],
        { cwd: ROOT, encoding: "utf8", env: npmEnv() },
    );
    const file = out.trim().split("\n").pop()!;
    const absolutePath = path.join(destination, file);
    const manifest = JSON.parse(
        execFileSync("tar", ["-xOzf", absolutePath, "package/package.json"], { encoding: "utf8" }),
    );
    return { name: manifest.name, file, absolutePath, manifest };
}
