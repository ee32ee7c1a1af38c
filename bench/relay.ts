// deno-lint-ignore-file no-console
/**
 * A trivial Deno TCP relay, the ceiling for any Deno broker: every byte a
 * publisher sends is written unchanged to every subscriber. A connection's
 * first byte says its role: "P" publisher, "S" subscriber.
 */

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
    if (role[0] === 0x53) {
      subscribers.add(conn);
      await writeAll(conn, new Uint8Array([0x4b]));
      const sink = new Uint8Array(16);
      while (await conn.read(sink) !== null) { /* subscribers only listen */ }
      return;
    }
    const buffer = new Uint8Array(256 * 1024);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return;
      const bytes = buffer.slice(0, n);
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
console.log(`RELAY= ${listener.addr.port}`);
for await (const conn of listener) void serve(conn);
