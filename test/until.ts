/** Waits for a condition a test is about to check, polling it, with a bound: never a fixed sleep. */
export async function until(
    what: string,
    ok: () => boolean | Promise<boolean>,
    ms = 30_000,
    everyMs = 20,
): Promise<void> {
    const end = Date.now() + ms;
    while (!(await ok())) {
        if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, everyMs));
    }
}
