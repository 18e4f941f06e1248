/** Settings: config before environment before default, and clear errors that never show the token. */
import { ImagineConfigError } from "../../provider/core/errors";
import { resolveSettings } from "../../provider/inputs/settings";

const TOKEN = "vk-canaryTOKEN0123456789abcdefghijklmnopqrstuvwxyzAB";
const fromConfig = (c: Record<string, string>) => (k: string) => c[k];

describe("resolveSettings", () => {
    it("reads stack config first, then the environment, then defaults", () => {
        const s = resolveSettings(fromConfig({ "imagine:apiToken": TOKEN }), {
            IMAGINE_BASE_URL: "http://127.0.0.1:9/",
            IMAGINE_MIN_POLL_SECONDS: "0.5",
        });
        expect(s).toEqual({
            token: TOKEN,
            baseUrl: "http://127.0.0.1:9",
            requestTimeoutMs: 30000,
            minPollMs: 500,
            maxPollMs: 60000,
            deleteTimeoutMs: 1200000,
            queueTimeoutMs: 3600000,
            requestsPerMinute: 50,
            expectedMs: 720000,
            verifyDeletes: "file",
            allowInsecureHttp: false,
            redisUrl: undefined,
            ledgerDays: 7,
            ledgerPath: ".imagine/ledger.jsonl",
        });
        expect(resolveSettings(fromConfig({}), { IMAGINE_API_TOKEN: "vk-env" }).token).toBe("vk-env");
        expect(
            resolveSettings(fromConfig({ "imagine:apiToken": "vk-cfg" }), { IMAGINE_API_TOKEN: "vk-env" }).token,
        ).toBe("vk-cfg");
        expect(resolveSettings(fromConfig({ "imagine:apiToken": "vk-x" }), {}).baseUrl).toBe("https://api.vyro.ai");
    });

    it("names both ways to set a missing token", () => {
        expect(() => resolveSettings(fromConfig({}), {})).toThrow(ImagineConfigError);
        expect(() => resolveSettings(fromConfig({}), {})).toThrow(
            /pulumi config set --secret imagine:apiToken.*IMAGINE_API_TOKEN/,
        );
    });

    it("rejects a malformed token without echoing it", () => {
        const bad = `${TOKEN}\n`;
        let message = "";
        try {
            resolveSettings(fromConfig({ "imagine:apiToken": bad }), {});
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message).toContain("malformed");
        expect(message).not.toContain(TOKEN);
    });

    it("accepts redis:// and rediss:// URLs for imagine:redisUrl (or IMAGINE_REDIS_URL), password and database included", () => {
        const get = (c: Record<string, string>, env: NodeJS.ProcessEnv = {}) =>
            resolveSettings(fromConfig({ "imagine:apiToken": TOKEN, ...c }), env).redisUrl;
        expect(get({})).toBeUndefined();
        expect(get({ "imagine:redisUrl": "redis://127.0.0.1:6379" })).toBe("redis://127.0.0.1:6379");
        expect(get({ "imagine:redisUrl": "rediss://user:p%40ss@redis.example.com:6380/2" })).toBe(
            "rediss://user:p%40ss@redis.example.com:6380/2",
        );
        expect(get({}, { IMAGINE_REDIS_URL: "redis://:pw@10.0.0.5/0" })).toBe("redis://:pw@10.0.0.5/0");
    });

    it.each([
        "http://:hunter2-secret@cache:6379",
        "hunter2-secret",
        "redis://:hunter2-secret@/0",
        "redis://:hunter2-secret@cache:6379/db",
    ])("rejects the Redis URL %s naming the key and the fix, never showing it", (url) => {
        let message = "";
        try {
            resolveSettings(fromConfig({ "imagine:apiToken": TOKEN, "imagine:redisUrl": url }), {});
        } catch (e) {
            expect(e).toBeInstanceOf(ImagineConfigError);
            message = (e as Error).message;
        }
        expect(message).toContain("imagine:redisUrl (or IMAGINE_REDIS_URL)");
        expect(message).toContain("pulumi config set --secret imagine:redisUrl redis://");
        expect(message).not.toContain("hunter2-secret");
    });

    it.each([
        [{ "imagine:baseUrl": "not a url" }, "imagine:baseUrl"],
        [{ "imagine:baseUrl": "ftp://x" }, "imagine:baseUrl"],
        [{ "imagine:minPollSeconds": "0" }, "imagine:minPollSeconds"],
        [{ "imagine:requestTimeoutSeconds": "abc" }, "imagine:requestTimeoutSeconds"],
        [{ "imagine:minPollSeconds": "10", "imagine:maxPollSeconds": "5" }, "imagine:maxPollSeconds"],
        [{ "imagine:ledgerDays": "0" }, "imagine:ledgerDays"],
        [{ "imagine:redisUrl": "http://127.0.0.1:6379" }, "imagine:redisUrl"],
    ])("rejects %j naming the key", (config, key) => {
        expect(() => resolveSettings(fromConfig({ "imagine:apiToken": TOKEN, ...config }), {})).toThrow(key);
    });

    it("reads imagine:verifyDeletes (file by default, status, off) and imagine:deletionLog, config before environment", () => {
        const base = { "imagine:apiToken": TOKEN };
        expect(resolveSettings(fromConfig(base), {}).verifyDeletes).toBe("file");
        expect(resolveSettings(fromConfig(base), {}).deletionLog).toBeUndefined();
        expect(resolveSettings(fromConfig(base), { IMAGINE_VERIFY_DELETES: "status" }).verifyDeletes).toBe("status");
        expect(
            resolveSettings(fromConfig({ ...base, "imagine:verifyDeletes": "off" }), {
                IMAGINE_VERIFY_DELETES: "status",
            }).verifyDeletes,
        ).toBe("off");
        expect(resolveSettings(fromConfig(base), { IMAGINE_DELETION_LOG: "audit/deletions.jsonl" }).deletionLog).toBe(
            "audit/deletions.jsonl",
        );
        expect(
            resolveSettings(fromConfig({ ...base, "imagine:deletionLog": "a.jsonl" }), {
                IMAGINE_DELETION_LOG: "b.jsonl",
            }).deletionLog,
        ).toBe("a.jsonl");
    });

    it("rejects an unknown imagine:verifyDeletes naming the key, its variable and the allowed values", () => {
        expect(() =>
            resolveSettings(fromConfig({ "imagine:apiToken": TOKEN, "imagine:verifyDeletes": "yes" }), {}),
        ).toThrow(/imagine:verifyDeletes \(or IMAGINE_VERIFY_DELETES\) is "yes": it must be one of file, status, off/);
        expect(() =>
            resolveSettings(fromConfig({ "imagine:apiToken": TOKEN }), { IMAGINE_VERIFY_DELETES: "files" }),
        ).toThrow(ImagineConfigError);
    });

    it("reads the ledger settings; a bad Redis URL is refused without repeating it (it may hold a password)", () => {
        const s = resolveSettings(
            fromConfig({ "imagine:apiToken": TOKEN, "imagine:redisUrl": "redis://:pw@127.0.0.1:6379/2" }),
            { IMAGINE_LEDGER_DAYS: "1.5", IMAGINE_LEDGER_PATH: "state/ledger.jsonl" },
        );
        expect([s.redisUrl, s.ledgerDays, s.ledgerPath]).toEqual([
            "redis://:pw@127.0.0.1:6379/2",
            1.5,
            "state/ledger.jsonl",
        ]);
        let message = "";
        try {
            resolveSettings(fromConfig({ "imagine:apiToken": TOKEN, "imagine:redisUrl": "tcp://:s3cret@host" }), {});
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message).toContain("imagine:redisUrl");
        expect(message).not.toContain("s3cret");
    });
});
