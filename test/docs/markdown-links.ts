/** Finding the links of Markdown files and checking that each relative one (and its #anchor) resolves. */
import * as fs from "fs";
import * as path from "path";

export interface Link {
    /** The Markdown file that holds the link. */
    file: string;
    line: number;
    target: string;
}

/** The Markdown files of the repository: every `*.md` outside dot-folders, installed packages and build output. */
export function markdownFiles(root: string): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            if (e.name.startsWith(".") || ["node_modules", "dist", "scratch", "coverage"].includes(e.name)) continue;
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.isFile() && e.name.endsWith(".md")) out.push(p);
        }
    };
    walk(root);
    return out.sort();
}

/** The lines of the text with fenced code blocks blanked (so line numbers stay right). */
function withoutFences(text: string): string[] {
    let fence: string | undefined;
    return text.split("\n").map((line) => {
        const m = /^\s*(```+|~~~+)/.exec(line);
        if (fence) {
            if (m && m[1][0] === fence[0] && m[1].length >= fence.length) fence = undefined;
            return "";
        }
        if (m) {
            fence = m[1];
            return "";
        }
        return line;
    });
}

/** Inline links and images `[text](target "title")`, autolinks aside, and reference definitions `[id]: target`. */
export function extractLinks(file: string, text: string): Link[] {
    const links: Link[] = [];
    withoutFences(text).forEach((codeAndText, i) => {
        const line = codeAndText.replace(/(`+)[^`]*?\1/g, ""); // a link in a code span is an example, not a link
        for (const m of line.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
            links.push({ file, line: i + 1, target: m[1] });
        }
        const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/.exec(line);
        if (def) links.push({ file, line: i + 1, target: def[1] });
    });
    return links;
}

/** GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
export function headingAnchors(text: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    for (const line of withoutFences(text)) {
        const m = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line.replace(/(`+)([^`]*?)\1/g, "$2"));
        if (!m) continue;
        const heading = m[1].replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1");
        const base = heading
            .toLowerCase()
            .replace(/[^\p{L}\p{N}\s_-]/gu, "")
            .replace(/\s/g, "-");
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    // Explicit anchors: <a id="..."> or <a name="...">.
    for (const m of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
    return anchors;
}

/** Why a link does not resolve, or undefined when it does. External links (with a scheme) are not checked. */
export function brokenReason(link: Link, root: string): string | undefined {
    const { target } = link;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
    const hash = target.indexOf("#");
    const rawPath = hash < 0 ? target : target.slice(0, hash);
    const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const decoded = decodeURIComponent(rawPath.split("?")[0]);
    const resolved =
        decoded === ""
            ? link.file
            : decoded.startsWith("/")
              ? path.join(root, decoded)
              : path.resolve(path.dirname(link.file), decoded);
    if (!fs.existsSync(resolved)) return `${path.relative(root, resolved)} does not exist`;
    if (anchor === undefined || anchor === "") return undefined;
    if (!resolved.endsWith(".md")) return undefined; // anchors of other files (line numbers of code) are not checked
    if (!headingAnchors(fs.readFileSync(resolved, "utf8")).has(anchor)) {
        return `no heading with anchor #${anchor} in ${path.relative(root, resolved)}`;
    }
    return undefined;
}
