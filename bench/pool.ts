/** A bounded pool for benchmarks: runs jobs with at most `width` in flight and counts the failures. */

/** Runs `job` over `items` with at most `width` in flight; resolves with how many failed. */
export async function pool<T>(items: T[], width: number, job: (item: T) => Promise<unknown>): Promise<number> {
    let next = 0;
    let failures = 0;
    const worker = async () => {
        while (next < items.length) {
            const item = items[next++];
            try {
                await job(item);
            } catch {
                failures++;
            }
        }
    };
    await Promise.all(Array.from({ length: width }, worker));
    return failures;
}
