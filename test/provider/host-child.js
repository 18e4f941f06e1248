// Runs in a fresh process, as @pulumi/pulumi/cmd/dynamic-provider does: rebuild the provider from its
// stored text with require-from-string, configure it with the stack config, then create and delete.
// argv: requireFromStringPath, then a JSON job on stdin: {providerText, config, inputs}.
const requireFromString = require(process.argv[2]);
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", async () => {
    const job = JSON.parse(input);
    try {
        const provider = requireFromString(job.providerText).handler();
        await provider.configure({ config: { get: (k) => job.config[k] } });
        const inputs = { ...job.inputs, __provider: job.providerText };
        const checked = await provider.check({}, inputs);
        const created = await provider.create(checked.inputs);
        const read = await provider.read(created.id, { ...created.outs, __provider: job.providerText });
        await provider.delete(created.id, { ...created.outs, __provider: job.providerText });
        const gone = await provider.read(created.id, { ...created.outs, __provider: job.providerText });
        process.stdout.write(
            "\nRESULT " +
                JSON.stringify({
                    id: created.id,
                    status: created.outs.status,
                    readStatus: read.props.status,
                    goneId: gone.id,
                }),
        );
    } catch (e) {
        process.stdout.write("\nRESULT " + JSON.stringify({ error: String(e && e.message) }));
    }
});
