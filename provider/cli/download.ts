import { CliIo } from "./io";
export async function downloadCommand(_argv: string[], _io: CliIo): Promise<number> {
    return 2;
}
