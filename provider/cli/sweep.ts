import { CliIo } from "./io";
export async function sweepCommand(_argv: string[], _io: CliIo): Promise<number> {
    return 2;
}
