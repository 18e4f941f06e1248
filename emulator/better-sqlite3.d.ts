// Minimal typings for the parts of better-sqlite3 the emulator uses (@types/better-sqlite3 is not installed).
declare module "better-sqlite3" {
    namespace Database {
        interface RunResult {
            changes: number;
            lastInsertRowid: number | bigint;
        }
        interface Statement<P extends unknown[] = unknown[]> {
            run(...params: P): RunResult;
            get(...params: P): unknown;
            all(...params: P): unknown[];
        }
        interface Database {
            prepare<P extends unknown[] = unknown[]>(sql: string): Statement<P>;
            exec(sql: string): Database;
            pragma(source: string, options?: { simple?: boolean }): unknown;
            transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
            close(): Database;
            readonly open: boolean;
        }
    }
    interface DatabaseConstructor {
        new (
            filename: string,
            options?: { readonly?: boolean; fileMustExist?: boolean; timeout?: number },
        ): Database.Database;
    }
    const Database: DatabaseConstructor;
    export = Database;
}
