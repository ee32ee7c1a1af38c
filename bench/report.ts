/** The benchmark's table, target checks and machine description. */

/** Median metrics per system label. */
export type Results = Record<string, Record<string, number>>;

const ROWS = [
  "W1 rate",
  "W1 lost",
  "W2 rate",
  "W2 lost",
  "W3 p50 ms",
  "W3 p99 ms",
  "W3 max ms",
  "W3 lost",
  "W4 rate",
  "W4 lost",
  "W5 rate",
  "W5+idle rate",
  "W5 idle ratio",
  "W5 lost",
  "W5+idle lost",
  "M1 KiB/sub",
  "M1 empty MiB",
  "M2 W4 rate",
  "M2 ratio",
  "M2 W4 lost",
];

function derive(results: Results): void {
  for (const m of Object.values(results)) {
    if (m["W5 rate"] && m["W5+idle rate"]) m["W5 idle ratio"] = m["W5+idle rate"] / m["W5 rate"];
    if (m["W4 rate"] && m["M2 W4 rate"]) m["M2 ratio"] = m["M2 W4 rate"] / m["W4 rate"];
  }
}

function cell(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return "-";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  return v.toFixed(2);
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !b || Number.isNaN(a) || Number.isNaN(b)) return "-";
  return (a / b).toFixed(2);
}

/** The es configurations measured, fewest workers first. */
function esColumns(results: Results): string[] {
  return Object.keys(results).filter((l) => l.startsWith("es w")).sort((a, b) =>
    Number(a.slice(4)) - Number(b.slice(4))
  );
}

/** The results as one fixed-width table with es/peer ratios. */
export function formatTable(results: Results): string {
  derive(results);
  const esLabels = esColumns(results);
  const es1 = results[esLabels[0] ?? ""];
  const es = results[esLabels[1] ?? ""];
  const peers = ["NATS", "Redis", "relay"].filter((p) => results[p]);
  const labels = [...esLabels, ...peers].filter((l) => results[l]);
  const head = ["metric", ...labels, ...peers.map((p) => `es/${p}`)];
  const rows = [head];
  for (const name of ROWS) {
    if (!labels.some((l) => results[l]![name] !== undefined)) continue;
    const row = [name, ...labels.map((l) => cell(results[l]![name]))];
    if (!name.includes("lost")) {
      for (const p of peers) {
        row.push(
          `${ratio(es1?.[name], results[p]![name])} | ${ratio(es?.[name], results[p]![name])}`,
        );
      }
    } else {
      for (const _ of peers) row.push("");
    }
    rows.push(row);
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    r.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join("  ")
  )
    .join("\n");
}

/** The targets, checked for each es configuration. */
export function targets(results: Results): string {
  derive(results);
  const nats = results["NATS"];
  const relay = results["relay"];
  const lines: string[] = [];
  for (const label of esColumns(results)) {
    const e = results[label];
    if (!e) continue;
    const check = (what: string, ok: boolean | undefined, detail: string) =>
      lines.push(
        `${label.padEnd(10)} ${
          ok === undefined ? "n/a " : ok ? "MET " : "MISS"
        } ${what}: ${detail}`,
      );
    const r = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined);
    const w1n = r(e["W1 rate"], nats?.["W1 rate"]);
    check("W1 >= 1.5x NATS", w1n === undefined ? undefined : w1n >= 1.5, `${w1n?.toFixed(2)}x`);
    const w1r = r(e["W1 rate"], relay?.["W1 rate"]);
    check("W1 >= 0.6x relay", w1r === undefined ? undefined : w1r >= 0.6, `${w1r?.toFixed(2)}x`);
    const w2n = r(e["W2 rate"], nats?.["W2 rate"]);
    check("W2 >= 2x NATS", w2n === undefined ? undefined : w2n >= 2, `${w2n?.toFixed(2)}x`);
    const p50 = e["W3 p50 ms"], np50 = nats?.["W3 p50 ms"];
    check(
      "W3 p50 <= NATS",
      np50 === undefined || p50 === undefined ? undefined : p50 <= np50,
      `${p50?.toFixed(3)} ms vs ${np50?.toFixed(3)} ms`,
    );
    const w4n = r(e["W4 rate"], nats?.["W4 rate"]);
    check("W4 >= NATS", w4n === undefined ? undefined : w4n >= 1, `${w4n?.toFixed(2)}x`);
    const w5 = e["W5 idle ratio"];
    check("W5 idle >= 0.8x W5", w5 === undefined ? undefined : w5 >= 0.8, `${w5?.toFixed(2)}x`);
    const m1 = e["M1 KiB/sub"];
    check("M1 <= 10 KiB/sub", m1 === undefined ? undefined : m1 <= 10, `${m1?.toFixed(2)} KiB`);
    const m2 = e["M2 ratio"];
    check("M2 W4 >= 0.8x W4", m2 === undefined ? undefined : m2 >= 0.8, `${m2?.toFixed(2)}x`);
    const lost = Object.entries(e).filter(([k, v]) => k.endsWith("lost") && v > 0);
    check(
      "nothing lost",
      lost.length === 0,
      lost.length ? lost.map(([k, v]) => `${k}=${v}`).join(" ") : "0",
    );
  }
  return lines.join("\n");
}

/** nproc, CPU model and memory from /proc. */
export async function machine(): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = cpuinfo.match(/model name\s*:\s*(.+)/)?.[1] ?? "unknown";
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memKiB = Number(meminfo.match(/MemTotal:\s+(\d+)/)?.[1] ?? NaN);
  return [
    `- nproc: ${navigator.hardwareConcurrency}`,
    `- CPU: ${model}`,
    `- memory: ${(memKiB / 1024 / 1024).toFixed(1)} GiB`,
    `- OS: ${Deno.build.os} ${Deno.build.arch}, kernel ${Deno.osRelease()}`,
  ].join("\n");
}
