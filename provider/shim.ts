/** The stored provider: the tiny text Pulumi keeps in each Video's state (contract `v1`). */
import type * as pulumi from "@pulumi/pulumi";

/**
 * The provider object stored in each Video's state (`__provider`). Pulumi serializes it as source
 * text, and runs that stored text for refresh and destroy, even years later. So it holds no logic:
 * each method loads the implementation from the installed package at call time, and an upgrade of
 * this package fixes deletes of videos created before it. It captures no configuration: the token
 * arrives through `configure` in the provider process. Keep this text stable: a change to it
 * changes every stack's state (though not the videos).
 */
// Parameter names are one letter on purpose: this text is stored twice per resource.
export const videoProvider: pulumi.dynamic.ResourceProvider = {
    configure: (r) => require("pulumi-imagine-video/v1").configure(r),
    check: (o, n) => require("pulumi-imagine-video/v1").check(o, n),
    diff: (i, o, n) => require("pulumi-imagine-video/v1").diff(i, o, n),
    create: (n) => require("pulumi-imagine-video/v1").create(n),
    read: (i, p) => require("pulumi-imagine-video/v1").read(i, p),
    update: (i, o, n) => require("pulumi-imagine-video/v1").update(i, o, n),
    delete: (i, p) => require("pulumi-imagine-video/v1").delete(i, p),
};
