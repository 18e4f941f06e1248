/** Request counters by route pattern and status code, vendor routes apart from /__emulator/* admin routes. */
export type RouteCounts = Record<string, Record<string, number>>;

export class RequestStats {
    total = 0;
    adminTotal = 0;
    readonly byRoute: RouteCounts = {};
    readonly adminByRoute: RouteCounts = {};

    record(method: string, route: string, outcome: number | "reset" | "hang"): void {
        const admin = route.startsWith("/__emulator/");
        const table = admin ? this.adminByRoute : this.byRoute;
        if (admin) this.adminTotal++;
        else this.total++;
        const key = `${method} ${route}`;
        const row = (table[key] ??= {});
        row[String(outcome)] = (row[String(outcome)] ?? 0) + 1;
    }
}
