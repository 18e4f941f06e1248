import { CliIo } from "./io";
export async function receiptsCommand(_argv: string[], _io: CliIo): Promise<number> {
    return 2;
}
