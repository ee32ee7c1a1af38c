// deno-lint-ignore-file no-console
/**
 * The memory floor for M1: RSS per idle connection of a bare Deno TCP server
 * that only keeps one pending 512-byte read per connection.
 * Run: `deno run -A bench/m1_floor.ts [connections]`.
 */

if (Deno.args[0] === "--serve") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`PORT ${listener.addr.port}`);
  for await (const conn of listener) {
    void (async () => {
      const buffer = new Uint8Array(512);
      try {
        while (await conn.read(buffer) !== null) { /* idle */ }
      } catch { /* gone */ }
    })();
  }
} else {
  const count = Number(Deno.args[0] ?? 10_000);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL(import.meta.url).pathname, "--serve"],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const port = Number((await reader.read()).value!.match(/PORT (\d+)/)![1]);
  const rss = async () =>
    Number((await Deno.readTextFile(`/proc/${child.pid}/status`)).match(/VmRSS:\s+(\d+)/)![1]);
  await new Promise((r) => setTimeout(r, 500));
  const before = await rss();
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < count; i += 200) {
    conns.push(
      ...await Promise.all(
        Array.from(
          { length: Math.min(200, count - i) },
          () => Deno.connect({ hostname: "127.0.0.1", port }),
        ),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = await rss();
  console.log(
    `bare Deno server: empty ${(before / 1024).toFixed(1)} MiB, ${
      ((after - before) / count).toFixed(2)
    } KiB per idle connection (${count} connections)`,
  );
  for (const c of conns) c.close();
  child.kill();
  await child.status;
}
