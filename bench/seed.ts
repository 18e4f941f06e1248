/** Finished videos made directly on an emulator (before a benchmark switches its limit on). */
import axios from "axios";
import { pool } from "./pool";

/** Makes `n` text-to-video videos on the emulator at `url` with `token`, 16 at a time; resolves with their ids. */
export async function seedVideos(url: string, token: string, n: number, label = "seed"): Promise<string[]> {
    const ids: string[] = [];
    await pool(
        Array.from({ length: n }, (_, i) => i),
        16,
        async (i) => {
            const form = new FormData();
            form.append("prompt", `${label} video ${i}`);
            form.append("style", "fast-svd");
            const r = await axios.post<{ id: string }>(`${url}/v2/video/text-to-video`, form, {
                headers: { Authorization: `Bearer ${token}` },
            });
            ids.push(r.data.id);
        },
    );
    return ids;
}
