// deno-lint-ignore-file no-console
/**
 * Memory per session of the real `bftp serve`: opens N idle sessions, then
 * N sessions doing small GETs, and reads the server's RSS from
 * `/proc/PID/status` at each step and 20 s after the load has gone.
 *
 * `deno run -A scripts/mem_sessions.ts [N] [BFTP_SCRIPT]` (Linux only).
 *
 * @module
 */

import { BftpClient } from "../lib/client/client.ts";

const n = Number(Deno.args[0] ?? 200);
const bftp = Deno.args[1] ?? new URL("./bftp", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const root = await Deno.makeTempDir({ prefix: "bftp-mem-" });
  await Deno.writeFile(`${root}/small.bin`, new Uint8Array(1024).fill(1));
  const child = new Deno.Command(bftp, {
    args: ["serve", root, "--port", "0", "-q", "--max-per-client", "0"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!/listening on \S+:(\d+)/.test(out)) out += (await reader.read()).value ?? "";
  const port = Number(/listening on \S+:(\d+)/.exec(out)![1]);
  const rss = async () => {
    // scripts/bftp execs deno, so the child's PID is the server's.
    const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
    return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
  };
  const target = { hostname: "127.0.0.1", port };
  const discard = { write: (p: Uint8Array) => Promise.resolve(p.byteLength) };
  await sleep(500);
  const base = await rss();
  const idle: BftpClient[] = [];
  for (let i = 0; i < n; i++) idle.push(await BftpClient.connect(target));
  await sleep(500);
  const withIdle = await rss();
  for (const c of idle) await c.quit().catch(() => {});
  await sleep(1000);
  const active = await Promise.all(Array.from({ length: n }, () => BftpClient.connect(target)));
  for (let round = 0; round < 5; round++) {
    await Promise.all(active.map((c) => c.get("/small.bin", discard)));
  }
  const withActive = await rss();
  for (const c of active) await c.quit().catch(() => {});
  await sleep(20_000);
  const after = await rss();
  const mb = (x: number) => `${x.toFixed(1)} MB`;
  const kb = (x: number) => `${((x * 1024) / n).toFixed(0)} KB`;
  console.log(`sessions ${n}; server RSS at start ${mb(base)}`);
  console.log(`${n} idle: ${mb(withIdle)} (${kb(withIdle - base)} per session)`);
  console.log(`${n} doing 1 KiB GETs: ${mb(withActive)} (${kb(withActive - base)} per session)`);
  console.log(`20 s after the load: ${mb(after)}`);
  child.kill("SIGTERM");
  await child.status;
  await reader.cancel();
  await Deno.remove(root, { recursive: true });
}

if (import.meta.main) await main();
