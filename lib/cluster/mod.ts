/**
 * The cluster: es nodes on several machines joined through NATS core.
 *
 * @module
 */

export { NatsBackplane } from "./nats_backplane.ts";
export { type NatsLink, type NatsSub, openNatsLink } from "./nats_link.ts";
export { ClusterCounters } from "./cluster_counters.ts";
export { natsSubject } from "./nats_subjects.ts";

import { NatsBackplane } from "./nats_backplane.ts";
import { openNatsLink } from "./nats_link.ts";

/**
 * A node's backplane onto the cluster at `servers`.
 *
 * @param name How the node is listed by the others (its `es://` URI).
 */
export async function joinCluster(
  servers: readonly string[],
  name: string,
): Promise<NatsBackplane> {
  return new NatsBackplane(await openNatsLink(servers, `es ${name}`), name);
}
