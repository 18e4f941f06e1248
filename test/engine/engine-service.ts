// The Engine gRPC service the program host talks to: Log (diagnostics) and the root stack resource.
import { grpc, engproto, emptyproto } from "./grpc-loader";

export interface Diagnostic {
    severity: "info" | "warning" | "error" | "debug";
    message: string;
    urn?: string;
}

const SEVERITY: Record<number, Diagnostic["severity"]> = { 0: "debug", 1: "info", 2: "warning", 3: "error" };

export class EngineService {
    readonly diagnostics: Diagnostic[] = [];
    rootUrn = "";

    implementation(): grpc.UntypedServiceImplementation {
        return {
            log: (call: any, cb: any) => {
                const r = call.request as engproto.LogRequest;
                const severity = SEVERITY[r.getSeverity()] ?? "info";
                if (severity !== "debug")
                    this.diagnostics.push({ severity, message: r.getMessage(), urn: r.getUrn() || undefined });
                cb(null, new emptyproto.Empty());
            },
            getRootResource: (_call: any, cb: any) => {
                const resp = new engproto.GetRootResourceResponse();
                resp.setUrn(this.rootUrn);
                cb(null, resp);
            },
            setRootResource: (call: any, cb: any) => {
                this.rootUrn = (call.request as engproto.SetRootResourceRequest).getUrn();
                cb(null, new engproto.SetRootResourceResponse());
            },
            requirePulumiVersion: (_call: any, cb: any) => cb(null, new engproto.RequirePulumiVersionResponse()),
        };
    }
}
