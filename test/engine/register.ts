// RegisterResource as the engine's step generator handles it for dynamic resources:
// Check -> (Create | Diff -> same | Update | Replace), with the outputs sent back to the program.
import * as crypto from "crypto";
import { ResourceState } from "./checkpoint";
import { Deployment, annotateInputs, annotateOutputs, errorText, label } from "./deployment";
import { MonitorHandler } from "./monitor-service";
import { ProviderError } from "./provider-client";
import { grpc, resproto, toStruct, fromStruct } from "./grpc-loader";
import { makeUrn, isDynamicType, NODEJS_PROVIDER_TYPE, STACK_TYPE } from "./urn";
import { isSecret, stripSecrets } from "./secrets";
import { protectedMessage } from "./deletes";

type Props = Record<string, unknown>;

function shutdownError(): grpc.ServiceError {
    // What the engine answers once the deployment has stopped after a failed step.
    const e = new Error("resource monitor shut down while waiting on step's done channel") as grpc.ServiceError;
    e.code = grpc.status.UNAVAILABLE;
    return e;
}

function deepEqual(a: unknown, b: unknown): boolean {
    return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
function canonical(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === "object")
        return Object.fromEntries(
            Object.keys(v)
                .sort()
                .map((k) => [k, canonical((v as any)[k])]),
        );
    return v;
}

export class RegisterHandler implements MonitorHandler {
    /** URNs the program registered (or read) in this run. */
    readonly registered = new Set<string>();
    /** Old resources replaced create-before-delete: deleted with the removed ones at the end. */
    readonly replaced: ResourceState[] = [];

    constructor(private d: Deployment) {}

    private goal(req: resproto.RegisterResourceRequest, urn: string): ResourceState {
        const propertyDependencies: Record<string, string[]> = {};
        req.getPropertydependenciesMap().forEach((v, k) => (propertyDependencies[k] = v.getUrnsList()));
        return {
            urn,
            custom: req.getCustom(),
            type: req.getType(),
            inputs: {},
            outputs: {},
            parent: req.getParent() || undefined,
            dependencies: req.getDependenciesList(),
            propertyDependencies,
            protect: req.getProtect() || undefined,
            retainOnDelete: req.getRetainondelete() || undefined,
            additionalSecretOutputs: req.getAdditionalsecretoutputsList().length
                ? req.getAdditionalsecretoutputsList()
                : undefined,
        };
    }

    private respond(urn: string, id: string, outputs: Props): resproto.RegisterResourceResponse {
        const resp = new resproto.RegisterResourceResponse();
        resp.setUrn(urn);
        resp.setId(id);
        resp.setObject(toStruct(outputs));
        resp.setResult(resproto.Result.SUCCESS);
        return resp;
    }

    async registerResource(req: resproto.RegisterResourceRequest): Promise<resproto.RegisterResourceResponse> {
        if (this.d.failed) throw shutdownError();
        return this.d.track(() => this.register(req));
    }

    private async register(req: resproto.RegisterResourceRequest): Promise<resproto.RegisterResourceResponse> {
        const d = this.d;
        const type = req.getType();
        const urn = makeUrn(d.ctx.stack, d.ctx.project, req.getParent() || undefined, type, req.getName());
        if (this.registered.has(urn)) {
            d.fail(`${label(urn)}: error: Duplicate resource URN '${urn}'; try giving it a unique name`);
            throw shutdownError();
        }
        this.registered.add(urn);
        const goal = this.goal(req, urn);
        const old = d.live(urn);

        if (!req.getCustom()) {
            // The root stack and component resources: state only, no provider.
            goal.outputs = old?.outputs ?? {};
            d.step(old ? "same" : "create", urn);
            if (!d.preview) {
                d.put(goal);
                d.save();
            }
            return this.respond(urn, "", {});
        }
        if (type.startsWith("pulumi:providers:")) {
            if (type !== NODEJS_PROVIDER_TYPE) {
                d.fail(
                    `${label(urn)}: error: provider ${type} is not modelled by the engine stand-in (only pulumi-nodejs)`,
                );
                throw shutdownError();
            }
            goal.id = old?.id ?? crypto.randomUUID();
            goal.inputs = goal.outputs = fromStruct(req.getObject());
            d.step(old ? "same" : "create", urn);
            if (!d.preview) {
                d.put(goal);
                d.save();
            }
            return this.respond(urn, goal.id, goal.outputs);
        }
        if (!isDynamicType(type)) {
            d.fail(
                `${label(urn)}: error: resource type ${type} is not modelled by the engine stand-in (only pulumi-nodejs dynamic resources)`,
            );
            throw shutdownError();
        }
        goal.provider = req.getProvider() || d.defaultProviderRef();
        try {
            return await this.registerDynamic(goal, old, fromStruct(req.getObject()), req.getDeletebeforereplace());
        } catch (e) {
            if ((e as grpc.ServiceError).code === grpc.status.UNAVAILABLE) throw e;
            d.fail(`${label(urn)}: error: ${e instanceof ProviderError ? e.message : errorText(e)}`);
            throw shutdownError();
        }
    }

    private async registerDynamic(goal: ResourceState, old: ResourceState | undefined, news: Props, dbrOpt: boolean) {
        const d = this.d;
        const urn = goal.urn;
        const p = await d.getProvider();
        const check = await p.check(urn, stripSecrets(old?.inputs ?? {}) as Props, stripSecrets(news) as Props);
        if (check.failures.length > 0) {
            for (const f of check.failures) d.fail(`${label(urn)}: error: ${f.property}: ${f.reason}`);
            throw shutdownError();
        }
        goal.inputs = annotateInputs(check.inputs, news);
        const aso = goal.additionalSecretOutputs;

        if (!old) {
            if (d.preview) {
                d.step("create", urn);
                return this.respond(urn, "", goal.inputs);
            }
            await this.create(goal);
            d.step("create", urn);
            return this.respond(urn, goal.id!, goal.outputs);
        }

        const diff = await p.diff(
            urn,
            old.id ?? "",
            stripSecrets(old.outputs) as Props,
            stripSecrets(goal.inputs) as Props,
            stripSecrets(old.inputs) as Props,
        );
        let kind: "same" | "update" | "replace";
        if (diff.replaces.length > 0) kind = "replace";
        else if (diff.changes === "some") kind = "update";
        else if (diff.changes === "none") kind = "same";
        else kind = deepEqual(stripSecrets(old.inputs), stripSecrets(goal.inputs)) ? "same" : "update"; // DIFF_UNKNOWN: the engine diffs inputs
        if (kind === "same" && old.initErrors?.length) kind = "update"; // the engine retries a resource whose init failed
        if (d.ctx.replace?.has(urn)) kind = "replace"; // `--replace`: after the diff, whatever it says

        if (kind === "same") {
            goal.id = old.id;
            goal.outputs = annotateOutputs(old.outputs, goal.inputs, aso);
            d.step("same", urn);
            if (!d.preview) {
                d.put(goal);
                d.save();
            }
            return this.respond(urn, goal.id ?? "", goal.outputs);
        }
        if (kind === "update") {
            d.step("update", urn);
            if (d.preview) return this.respond(urn, old.id ?? "", goal.inputs);
            goal.id = old.id;
            try {
                const outs = await p.update(
                    urn,
                    old.id ?? "",
                    stripSecrets(old.outputs) as Props,
                    stripSecrets(goal.inputs) as Props,
                    stripSecrets(old.inputs) as Props,
                );
                goal.outputs = annotateOutputs(outs, goal.inputs, aso);
            } catch (e) {
                if (e instanceof ProviderError && e.initFailed) {
                    goal.outputs = annotateOutputs(e.initFailed.properties, goal.inputs, aso);
                    goal.initErrors = e.initFailed.reasons;
                    d.put(goal);
                    d.save();
                }
                throw e;
            }
            d.put(goal);
            d.save();
            return this.respond(urn, goal.id ?? "", goal.outputs);
        }

        // Replace.
        if (old.protect) {
            d.fail(`${label(urn)}: error: ${protectedMessage(urn).replace("unable to delete", "unable to replace")}`);
            throw shutdownError();
        }
        const dbr = diff.deleteBeforeReplace || dbrOpt;
        if (d.preview) {
            if (dbr) d.step("delete-replaced", urn);
            d.step("create-replacement", urn);
            d.step("replace", urn);
            if (!dbr) d.step("delete-replaced", urn);
            return this.respond(urn, "", goal.inputs);
        }
        if (dbr) {
            if (!old.retainOnDelete)
                await p.delete(
                    urn,
                    old.id ?? "",
                    stripSecrets(old.outputs) as Props,
                    stripSecrets(old.inputs) as Props,
                );
            d.remove(old);
            d.step("delete-replaced", urn);
            d.save();
            d.step("replace", urn);
            await this.create(goal);
            d.step("create-replacement", urn);
        } else {
            await this.create(goal, old);
            d.step("create-replacement", urn);
            d.step("replace", urn);
            this.replaced.push(old);
        }
        return this.respond(urn, goal.id!, goal.outputs);
    }

    /** Create; a partial failure (id + properties) is recorded with its initErrors before failing. */
    private async create(goal: ResourceState, replacing?: ResourceState): Promise<void> {
        const d = this.d;
        const p = await d.getProvider();
        const record = () => {
            if (replacing) {
                replacing.delete = true; // the old one stays in state until its delete
                d.resources.push(goal);
            } else {
                d.put(goal);
            }
            d.save();
        };
        try {
            const res = await p.create(goal.urn, stripSecrets(goal.inputs) as Props);
            goal.id = res.id;
            goal.outputs = annotateOutputs(res.outputs, goal.inputs, goal.additionalSecretOutputs);
        } catch (e) {
            if (e instanceof ProviderError && e.initFailed) {
                goal.id = e.initFailed.id;
                goal.outputs = annotateOutputs(e.initFailed.properties, goal.inputs, goal.additionalSecretOutputs);
                goal.initErrors = e.initFailed.reasons;
                record();
            }
            throw e;
        }
        record();
    }

    async registerResourceOutputs(req: resproto.RegisterResourceOutputsRequest): Promise<void> {
        const outputs = fromStruct(req.getOutputs());
        if (this.d.preview) {
            if (req.getUrn().includes(`::${STACK_TYPE}::`)) this.previewStackOutputs = outputs;
            return;
        }
        const r = this.d.live(req.getUrn());
        if (r) {
            r.outputs = outputs;
            this.d.save();
        }
    }
    previewStackOutputs?: Props;

    /** `get` of an existing resource: Read through the provider, recorded as external (never deleted). */
    async readResource(req: resproto.ReadResourceRequest): Promise<resproto.ReadResourceResponse> {
        const d = this.d;
        if (d.failed) throw shutdownError();
        const urn = makeUrn(d.ctx.stack, d.ctx.project, req.getParent() || undefined, req.getType(), req.getName());
        if (!isDynamicType(req.getType())) {
            d.fail(`${label(urn)}: error: resource type ${req.getType()} is not modelled by the engine stand-in`);
            throw shutdownError();
        }
        this.registered.add(urn);
        const props = fromStruct(req.getProperties());
        const p = await d.getProvider();
        const res = await p.read(urn, req.getId(), stripSecrets(props) as Props, {});
        if (!res.id) {
            d.fail(`${label(urn)}: error: resource '${req.getId()}' does not exist`);
            throw shutdownError();
        }
        const r: ResourceState = {
            urn,
            custom: true,
            type: req.getType(),
            id: res.id,
            inputs: {},
            external: true,
            outputs: annotateOutputs(res.outputs, props, req.getAdditionalsecretoutputsList()),
            parent: req.getParent() || undefined,
            provider: req.getProvider() || d.defaultProviderRef(),
            dependencies: req.getDependenciesList(),
        };
        d.step("read", urn);
        if (!d.preview) {
            d.put(r);
            d.save();
        }
        const resp = new resproto.ReadResourceResponse();
        resp.setUrn(urn);
        resp.setProperties(toStruct(r.outputs));
        return resp;
    }
}

export function stackOutputs(outputs: Props): Record<string, { value: unknown; secret: boolean }> {
    const out: Record<string, { value: unknown; secret: boolean }> = {};
    for (const [k, v] of Object.entries(outputs)) out[k] = { value: stripSecrets(v), secret: isSecret(v) };
    return out;
}

export { STACK_TYPE };
