// One place that loads the generated gRPC stubs shipped inside @pulumi/pulumi, so every other file
// uses the same copies of @grpc/grpc-js and google-protobuf as the SDK's program and provider hosts.
import * as grpc from "@grpc/grpc-js";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as resproto from "@pulumi/pulumi/proto/resource_pb";
import * as engproto from "@pulumi/pulumi/proto/engine_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";

/* eslint-disable @typescript-eslint/no-require-imports */
// The *_grpc_pb modules are plain JS service descriptors; their .d.ts files pin a grpc-js type
// version, so they are loaded untyped and used only to register services / build clients.
const resrpc = require("@pulumi/pulumi/proto/resource_grpc_pb");
const engrpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");

export { grpc, structproto, emptyproto, resproto, engproto, provproto, plugproto, statusproto };

export const ResourceMonitorService: grpc.ServiceDefinition = resrpc.ResourceMonitorService;
export const EngineService: grpc.ServiceDefinition = engrpc.EngineService;
export const ResourceProviderClient: new (address: string, creds: grpc.ChannelCredentials) => any =
    provrpc.ResourceProviderClient;

/** A google.protobuf.Struct from a plain object (sentinel objects such as secrets pass through). */
export function toStruct(obj: Record<string, unknown> | undefined): structproto.Struct {
    return structproto.Struct.fromJavaScript((obj ?? {}) as any);
}

export function fromStruct(s: structproto.Struct | undefined): Record<string, unknown> {
    return s ? s.toJavaScript() : {};
}

/** A gRPC error object a service callback can return. */
export function grpcError(code: grpc.status, message: string): grpc.ServiceError {
    const err = new Error(message) as grpc.ServiceError;
    err.code = code;
    err.details = message;
    err.metadata = new grpc.Metadata();
    return err;
}
