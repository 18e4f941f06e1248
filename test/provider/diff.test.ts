/** `diff`: which changes replace, which update in place, and which are no change. */
import { diffVideo } from "../../provider/methods/diff";
import { UNKNOWN } from "../../provider/inputs/inputs";

const olds = {
    prompt: "p",
    style: "s",
    aspectRatio: "16:9",
    imageDigest: "sha256:aa",
    imagePath: "a.png",
    videoId: "v",
    status: "finished",
    timeoutMinutes: 30,
};

describe("diffVideo", () => {
    it("reports no change for the same inputs", () => {
        expect(
            diffVideo(olds, {
                prompt: "p",
                style: "s",
                aspectRatio: "16:9",
                imageDigest: "sha256:aa",
                imagePath: "a.png",
                timeoutMinutes: 30,
            }),
        ).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it.each(["prompt", "style", "aspectRatio", "imageDigest", "adoptVideoId"])("replaces on a change of %s", (key) => {
        const news: Record<string, unknown> = { ...olds, [key]: "other" };
        expect(diffVideo(olds, news)).toEqual({ changes: true, replaces: [key], deleteBeforeReplace: false });
    });

    it("replaces on a change of extraParams, but not on a reordering of them", () => {
        const a = { ...olds, extraParams: { a: "1", b: "2" } };
        expect(diffVideo(a, { ...a, extraParams: { b: "2", a: "1" } }).changes).toBe(false);
        expect(diffVideo(a, { ...a, extraParams: { a: "1", b: "3" } }).replaces).toEqual(["extraParams"]);
    });

    it("updates in place for waiting options and a moved image with the same content", () => {
        expect(diffVideo(olds, { ...olds, timeoutMinutes: 60 })).toEqual({
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
        expect(diffVideo(olds, { ...olds, waitForCompletion: false }).replaces).toEqual([]);
        expect(diffVideo(olds, { ...olds, imagePath: "moved/a.png" })).toEqual({
            changes: true,
            replaces: [],
            deleteBeforeReplace: false,
        });
    });

    it("replaces a failed generation so the next up retries it, but not an adopted one", () => {
        expect(diffVideo({ ...olds, status: "failed" }, olds).replaces).toEqual(["status"]);
        expect(diffVideo({ adoptVideoId: "x", status: "failed" }, { adoptVideoId: "x" }).changes).toBe(false);
    });

    it("never changes anything for the resource's identity: state of earlier releases has none, an upgrade replaces nothing", () => {
        const identity = { project: "p", stack: "dev", name: "intro" };
        expect(diffVideo(olds, { ...olds, identity })).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
        expect(diffVideo({ ...olds, identity }, { ...olds, identity: { ...identity, name: "renamed" } }).changes).toBe(
            false,
        );
    });

    it("never changes anything for keyFingerprint or protected: state of earlier releases has neither, an upgrade replaces nothing", () => {
        expect(diffVideo(olds, { ...olds, protected: true })).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
        expect(diffVideo({ ...olds, keyFingerprint: "0123456789ab" }, olds)).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
        expect(diffVideo({ ...olds, protected: true }, olds).changes).toBe(false);
    });

    it("keeps a failed generation of a protected resource instead of a replacement the engine would refuse", () => {
        expect(diffVideo({ ...olds, status: "failed" }, { ...olds, protected: true })).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
            keptFailed: true,
        });
        expect(diffVideo({ ...olds, status: "failed", protected: true }, olds).replaces).toEqual(["status"]);
    });

    it("treats an unknown value as a change", () => {
        expect(diffVideo(olds, { ...olds, prompt: UNKNOWN }).replaces).toEqual(["prompt"]);
    });
});
