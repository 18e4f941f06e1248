// Example: hands videos made elsewhere to Pulumi (adoptVideoId), so `pulumi destroy` deletes them.
import * as pulumi from "@pulumi/pulumi";
import * as imagine from "pulumi-imagine-video";

// Videos made elsewhere (a script, the vendor's dashboard, a stack that lost its state).
// `pulumi import` does not work for dynamic resources; `adoptVideoId` stands in for it.
const config = new pulumi.Config();
const ids = config.requireObject<string[]>("videoIds");

const adopted = ids.map((id) => new imagine.Video(`adopted-${id}`, { adoptVideoId: id }));

export const statuses = adopted.map((v) => v.status);
