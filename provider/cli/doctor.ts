import { CliIo } from "./io";
export async function doctorCommand(_argv: string[], _io: CliIo): Promise<number> {
    return 2;
}
