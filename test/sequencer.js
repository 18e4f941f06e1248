/**
 * The order jest starts test files in. Two workers share the files, so the suite's time is that of the
 * busier worker: the longest files must start first, or one of them starts last and the other worker idles.
 * Jest's own order does this from the durations it caches after a run; on a fresh clone it has none and
 * falls back to file size, which put the two longest files (about 80 s each) in the middle and cost
 * about 50 s. Here a file without a cached duration gets an estimate from what costs time in this suite:
 * each engine operation (`stack.up(`, `stack.destroy(`, ...) starts a program host and a provider host, and
 * each demo run or fleet worker more processes: a few seconds each. Files that failed last time still run first, as jest does.
 */
const fs = require("fs");
const Sequencer = require("@jest/test-sequencer").default;

const SECONDS_PER_OPERATION = 4;
const OPERATION = /\bstack\.(up|destroy|refresh|preview)\(|\brun\.(up|destroy)\(|runDemo\(|spawnWorker\(/g;

/** Estimated milliseconds of a test file nobody has timed on this machine yet. */
function estimateMs(file) {
    let text = "";
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        return 0;
    }
    const operations = (text.match(OPERATION) ?? []).length;
    // The size breaks ties between files without operations, as jest's own fallback does.
    return operations * SECONDS_PER_OPERATION * 1000 + text.length / 10;
}

class CostFirstSequencer extends Sequencer {
    sort(tests) {
        const cost = new Map(tests.map((t) => [t.path, this.time(t) ?? estimateMs(t.path)]));
        return [...tests].sort((a, b) => {
            const failedA = this.hasFailed(a);
            const failedB = this.hasFailed(b);
            if (failedA !== failedB) return failedA ? -1 : 1;
            return cost.get(b.path) - cost.get(a.path);
        });
    }
}

module.exports = CostFirstSequencer;
