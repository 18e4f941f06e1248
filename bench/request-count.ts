/** Counting the emulator's requests (its stats: route -> status -> count) by route and status, for benchmark figures. */

/** Requests whose route matches `route` (and whose status is `status`, when given). */
export function countRequests(
    requests: Record<string, Record<string, number>>,
    route: RegExp,
    status?: string,
): number {
    return Object.entries(requests)
        .filter(([r]) => route.test(r))
        .reduce(
            (n, [, by]) =>
                n +
                Object.entries(by)
                    .filter(([s]) => !status || s === status)
                    .reduce((m, [, c]) => m + c, 0),
            0,
        );
}
