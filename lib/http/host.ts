/** What the HTTP side needs from the event server it serves (it imports nothing of the server). */

import type { Transport } from "../transport/transport.ts";
import type { MonitoringGuard } from "./monitor_auth.ts";

/** The event server, as the HTTP side sees it. */
export interface HttpHost {
  /** Serves a connection that came in over `/ws`, as a TCP one. */
  serve(transport: Transport): void;
  /** The server's statistics, as JSON-able data. */
  stats(): Promise<unknown>;
  /** Why the server cannot serve right now, or undefined when it can (for `/healthz`). */
  unhealthy(): string | undefined;
  /** Largest frame the server accepts. */
  readonly maxFrameBytes: number;
  /**
   * Origins whose pages may open `/ws` besides the server's own (normalized,
   * `"*"` for every one); undefined: the server's own only.
   */
  readonly allowOrigins: readonly string[] | undefined;
  /** Who may read the monitoring routes (`/stats`, `/metrics`). */
  readonly monitoring: MonitoringGuard;
}
