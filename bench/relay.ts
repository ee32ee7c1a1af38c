/**
 * A bare Deno TCP relay, the ceiling for any broker written in Deno: every
 * byte a publisher sends is written unchanged to every subscriber; nothing is
 * parsed or routed. Framing and roles: bench/relay_client.ts.
 * Prints `RELAY= relay://127.0.0.1:PORT` once listening.
 */

const ROLE_SUBSCRIBER = 0x53;
const ACK = 0x4b;
const READ_BYTES = 256 * 1024;

const subscribers = new Set<Deno.TcpConn>();

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

async function serve(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const role = new Uint8Array(1);
  try {
    if (await conn.read(role) !== 1) return;
    if (role[0] === ROLE_SUBSCRIBER) {
      subscribers.add(conn);
      await writeAll(conn, new Uint8Array([ACK]));
      const sink = new Uint8Array(16);
      while (await conn.read(sink) !== null) { /* subscribers only listen */ }
      return;
    }
    const buffer = new Uint8Array(READ_BYTES);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return;
      const bytes = buffer.slice(0, n);
      // Read no more until every subscriber has taken this chunk: back-pressure, no loss.
      const writes: Promise<void>[] = [];
      for (const s of subscribers) writes.push(writeAll(s, bytes).catch(() => {}));
      await Promise.all(writes);
    }
  } catch {
    // The peer went away.
  } finally {
    subscribers.delete(conn);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
await Deno.stdout.write(
  new TextEncoder().encode(`RELAY= relay://127.0.0.1:${listener.addr.port}\n`),
);
for await (const conn of listener) void serve(conn);
