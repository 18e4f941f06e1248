// Starts the real dynamic provider host (`@pulumi/pulumi/cmd/dynamic-provider`) and talks to it over
// gRPC as the engine does. The host prints its port on stdout; Configure must come before any call.
import { Child } from "./child";
import { grpc, provproto, statusproto, toStruct, fromStruct, ResourceProviderClient } from "./grpc-loader";
import { makeSecret } from "./secrets";

export const DYNAMIC_PROVIDER_SCRIPT = require.resolve("@pulumi/pulumi/cmd/dynamic-provider");

type Props = Record<string, unknown>;

/** A provider error; `initFailed` is set when the host reported a partial failure (ErrorResourceInitFailed). */
export class ProviderError extends Error {
    constructor(
        message: string,
        readonly initFailed?: { id: string; properties: Props; reasons: string[] },
    ) {
        super(message);
    }
}

export class ProviderClient {
    private client: any;
    private constructor(readonly child: Child) {}

    /**
     * `onLine` (optional): each line of the host's output, live; the port line (protocol) is not passed.
     * `nodePath` (optional): the Node binary that runs the host; default the one running this process.
     */
    static async start(
        cwd: string,
        engineAddress: string,
        env: NodeJS.ProcessEnv,
        timeoutMs = 30000,
        script = DYNAMIC_PROVIDER_SCRIPT,
        onLine?: (line: string) => void,
        nodePath?: string,
    ): Promise<ProviderClient> {
        let portLineSeen = false;
        const lineListener =
            onLine &&
            ((line: string, stream: "stdout" | "stderr") => {
                if (stream === "stdout" && !portLineSeen && /^\d+\s*$/.test(line)) {
                    portLineSeen = true;
                    return;
                }
                onLine(line);
            });
        const child = new Child("dynamic-provider", [script, engineAddress], {
            cwd,
            env,
            onLine: lineListener,
            nodePath,
        });
        const pc = new ProviderClient(child);
        try {
            const port = await new Promise<number>((resolve, reject) => {
                const timer = setTimeout(
                    () => reject(new Error("dynamic provider did not print its port in time")),
                    timeoutMs,
                );
                const onData = () => {
                    const m = /^(\d+)\s*\n/.exec(child.stdout);
                    if (m) {
                        clearTimeout(timer);
                        child.proc.stdout!.off("data", onData);
                        child.stdout = child.stdout.slice(m[0].length); // the port line is protocol, not output
                        resolve(Number(m[1]));
                    }
                };
                child.proc.stdout!.on("data", onData);
                void child.exited.then((code) => {
                    clearTimeout(timer);
                    reject(
                        new Error(`dynamic provider exited (code ${code}) before printing its port: ${child.stderr}`),
                    );
                });
            });
            pc.client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
            return pc;
        } catch (e) {
            await child.stop();
            throw e;
        }
    }

    private call<T>(method: string, req: unknown): Promise<T> {
        return new Promise((resolve, reject) => {
            this.client[method](req, (err: grpc.ServiceError | null, resp: T) => {
                if (err) reject(toProviderError(err));
                else resolve(resp);
            });
        });
    }

    /** The engine sends the whole stack config as `args`, secret values wrapped as secrets. */
    async configure(config: Record<string, { value: string; secret?: boolean }>): Promise<void> {
        const args: Props = {};
        for (const [k, v] of Object.entries(config)) args[k] = v.secret ? makeSecret(v.value) : v.value;
        const req = new provproto.ConfigureRequest();
        req.setArgs(toStruct(args));
        req.setAcceptsecrets(true);
        req.setAcceptresources(false);
        req.setSendsOldInputs(true);
        req.setSendsOldInputsToDelete(true);
        await this.call("configure", req);
    }

    async check(
        urn: string,
        olds: Props,
        news: Props,
    ): Promise<{ inputs: Props; failures: { property: string; reason: string }[] }> {
        const req = new provproto.CheckRequest();
        req.setUrn(urn);
        req.setOlds(toStruct(olds));
        req.setNews(toStruct(news));
        const resp = await this.call<provproto.CheckResponse>("check", req);
        return {
            inputs: fromStruct(resp.getInputs()),
            failures: resp.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
        };
    }

    async diff(
        urn: string,
        id: string,
        oldOutputs: Props,
        news: Props,
        oldInputs: Props,
    ): Promise<{ changes: "none" | "some" | "unknown"; replaces: string[]; deleteBeforeReplace: boolean }> {
        const req = new provproto.DiffRequest();
        req.setUrn(urn);
        req.setId(id);
        req.setOlds(toStruct(oldOutputs));
        req.setNews(toStruct(news));
        req.setOldInputs(toStruct(oldInputs));
        const resp = await this.call<provproto.DiffResponse>("diff", req);
        const c = resp.getChanges();
        const D = provproto.DiffResponse.DiffChanges;
        return {
            changes: c === D.DIFF_NONE ? "none" : c === D.DIFF_SOME ? "some" : "unknown",
            replaces: resp.getReplacesList(),
            deleteBeforeReplace: resp.getDeletebeforereplace(),
        };
    }

    async create(urn: string, inputs: Props): Promise<{ id: string; outputs: Props }> {
        const req = new provproto.CreateRequest();
        req.setUrn(urn);
        req.setProperties(toStruct(inputs));
        const resp = await this.call<provproto.CreateResponse>("create", req);
        return { id: resp.getId(), outputs: fromStruct(resp.getProperties()) };
    }

    async read(
        urn: string,
        id: string,
        outputs: Props,
        inputs: Props,
    ): Promise<{ id: string; outputs: Props; inputs?: Props }> {
        const req = new provproto.ReadRequest();
        req.setUrn(urn);
        req.setId(id);
        req.setProperties(toStruct(outputs));
        req.setInputs(toStruct(inputs));
        const resp = await this.call<provproto.ReadResponse>("read", req);
        return {
            id: resp.getId(),
            outputs: fromStruct(resp.getProperties()),
            inputs: resp.hasInputs() ? fromStruct(resp.getInputs()) : undefined,
        };
    }

    async update(urn: string, id: string, oldOutputs: Props, news: Props, oldInputs: Props): Promise<Props> {
        const req = new provproto.UpdateRequest();
        req.setUrn(urn);
        req.setId(id);
        req.setOlds(toStruct(oldOutputs));
        req.setNews(toStruct(news));
        req.setOldInputs(toStruct(oldInputs));
        const resp = await this.call<provproto.UpdateResponse>("update", req);
        return fromStruct(resp.getProperties());
    }

    async delete(urn: string, id: string, outputs: Props, inputs: Props): Promise<void> {
        const req = new provproto.DeleteRequest();
        req.setUrn(urn);
        req.setId(id);
        req.setProperties(toStruct(outputs));
        req.setOldInputs(toStruct(inputs));
        await this.call("delete", req);
    }

    async stop(): Promise<void> {
        try {
            this.client?.close();
        } catch {
            /* already closed */
        }
        await this.child.stop();
    }
}

/**
 * The host encodes a partial failure as a grpc.Status in the `grpc-status-details-bin` trailer,
 * whose details hold one Any packing pulumirpc.ErrorResourceInitFailed {id, properties, reasons}.
 */
function toProviderError(err: grpc.ServiceError): ProviderError {
    const message = err.details || err.message;
    const raw = err.metadata?.get("grpc-status-details-bin")?.[0];
    if (raw) {
        const status = statusproto.Status.deserializeBinary(new Uint8Array(raw as Buffer));
        for (const any of status.getDetailsList()) {
            if (any.getTypeName() === "pulumirpc.ErrorResourceInitFailed") {
                const d = provproto.ErrorResourceInitFailed.deserializeBinary(any.getValue_asU8());
                const props = d.getProperties();
                return new ProviderError(message, {
                    id: d.getId(),
                    properties: fromStruct(props),
                    reasons: d.getReasonsList(),
                });
            }
        }
    }
    return new ProviderError(message);
}
