import { CliIo } from "./io";
export async function statusCommand(_argv: string[], _io: CliIo): Promise<number> {
    return 2;
}
