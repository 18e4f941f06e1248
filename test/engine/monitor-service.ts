// The ResourceMonitor gRPC service the program host talks to. It answers SupportsFeature and hands
// resource registrations to a handler (the deployment); one server hosts it and the Engine service.
import { grpc, resproto, emptyproto, EngineService as EngineServiceDef, ResourceMonitorService } from "./grpc-loader";
import { EngineService } from "./engine-service";

export interface MonitorHandler {
    registerResource(req: resproto.RegisterResourceRequest): Promise<resproto.RegisterResourceResponse>;
    registerResourceOutputs(req: resproto.RegisterResourceOutputsRequest): Promise<void>;
    readResource(req: resproto.ReadResourceRequest): Promise<resproto.ReadResourceResponse>;
}

/**
 * What we tell the SDK we support. `secrets` is required for secret outputs; everything else is off so
 * the SDK either falls back to a simpler encoding (resource references as ids/URNs, unknowns as the
 * unknown sentinel, alias URNs) or fails clearly (deletedWith, transforms, hooks, parameterization).
 */
export const FEATURES: Record<string, boolean> = {
    secrets: true,
    resourceReferences: false,
    outputValues: false,
    deletedWith: false,
    replaceWith: false,
    aliasSpecs: false,
    transforms: false,
    invokeTransforms: false,
    parameterization: false,
    resourceHooks: false,
    errorHooks: false,
};

function unary<Req, Resp>(fn: (req: Req) => Promise<Resp>) {
    return (call: { request: Req }, cb: (err: grpc.ServiceError | null, resp?: Resp) => void) => {
        fn(call.request).then(
            (resp) => cb(null, resp),
            (err: any) => {
                const e =
                    err instanceof Error ? (err as grpc.ServiceError) : (new Error(String(err)) as grpc.ServiceError);
                if (e.code === undefined) e.code = grpc.status.UNKNOWN;
                cb(e);
            },
        );
    };
}

export class MonitorServer {
    private server = new grpc.Server();
    address = "";

    constructor(
        private handler: MonitorHandler,
        readonly engine: EngineService,
    ) {}

    async start(): Promise<string> {
        const h = this.handler;
        this.server.addService(ResourceMonitorService, {
            supportsFeature: unary(async (req: resproto.SupportsFeatureRequest) => {
                const resp = new resproto.SupportsFeatureResponse();
                resp.setHassupport(FEATURES[req.getId()] === true);
                return resp;
            }),
            registerResource: unary((req: resproto.RegisterResourceRequest) => h.registerResource(req)),
            registerResourceOutputs: unary(async (req: resproto.RegisterResourceOutputsRequest) => {
                await h.registerResourceOutputs(req);
                return new emptyproto.Empty();
            }),
            readResource: unary((req: resproto.ReadResourceRequest) => h.readResource(req)),
            invoke: unary(async (req: resproto.ResourceInvokeRequest) => {
                const e = new Error(
                    `invoke ${req.getTok()} is not modelled by the engine stand-in`,
                ) as grpc.ServiceError;
                e.code = grpc.status.UNIMPLEMENTED;
                throw e;
            }),
            // The real engine waits for the deletes here; we run them after the program has exited.
            signalAndWaitForShutdown: unary(async () => new emptyproto.Empty()),
        });
        this.server.addService(EngineServiceDef, this.engine.implementation());
        const port = await new Promise<number>((resolve, reject) =>
            this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
                err ? reject(err) : resolve(p),
            ),
        );
        this.address = `127.0.0.1:${port}`;
        return this.address;
    }

    async stop(): Promise<void> {
        this.server.forceShutdown();
    }
}
