import { deepEqual, equal, ok } from "node:assert/strict";
import { BFTP_BIN, runBftp } from "./helpers.ts";
import { requirePeers } from "../peers.ts";
import { silentListener } from "../helpers.ts";

const decoder = new TextDecoder();

/** A running `bftp echo-server` child, with what it printed so far. */
interface ServerProcess {
  port: number;
  /** Everything on stderr so far. */
  stderr(): string;
  /** Waits until stderr matches `pattern` (at most 10 s). */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Sends a signal. */
  signal(signal: Deno.Signal): void;
  /** Whether the process has exited. */
  exited(): boolean;
  /** SIGINT, then its exit code and final stderr. */
  stop(): Promise<{ code: number; stderr: string }>;
}

async function startServer(args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(BFTP_BIN, {
    args: ["echo-server", "--port", "0", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  let out = "";
  let err = "";
  let done = false;
  const collect = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const reading = Promise.all([
    collect(child.stdout, (s) => out += s),
    collect(child.stderr, (s) => err += s),
  ]);
  const status = child.status.then((s) => {
    done = true;
    return s;
  });
  const waitFor = async (text: () => string, pattern: RegExp) => {
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline) {
      const m = text().match(pattern);
      if (m) return m;
      if (done) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`No ${pattern} in output: ${text()}`);
  };
  const server: ServerProcess = {
    port: 0,
    stderr: () => err,
    waitForStderr: (pattern) => waitFor(() => err, pattern),
    signal: (s) => child.kill(s),
    exited: () => done,
    async stop() {
      if (!done) child.kill("SIGINT");
      const { code } = await status;
      await reading;
      return { code, stderr: err };
    },
  };
  try {
    const m = await waitFor(() => out, /^listening on tcp:\/\/127\.0\.0\.1:(\d+)\n/);
    server.port = Number(m[1]);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

async function runTool(cmd: string, args: string[], stdin: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  // Write and read at once: awaiting the whole write first deadlocks once the
  // tool's stdout pipe fills while it echoes.
  const writing = (async () => {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  })();
  const [{ code, stdout, stderr }] = await Promise.all([child.output(), writing]);
  equal(code, 0, `${cmd} failed: ${decoder.decode(stderr)}`);
  return stdout;
}

/** Parses the `total: N connections` line of a stats block. */
function totalConnections(stderr: string): number {
  const totals = [...stderr.matchAll(/^total: (\d+) connections/gm)];
  return Number(totals.at(-1)?.[1]);
}

Deno.test("e2e: echo-server serves nc, socat and bftp echo, and reports every worker on SIGUSR1 and at exit", async () => {
  requirePeers("nc", "socat");
  const server = await startServer(["--workers", "2"]);
  try {
    const port = String(server.port);
    const text = new TextEncoder();
    deepEqual(
      decoder.decode(await runTool("nc", ["-N", "127.0.0.1", port], text.encode("hello nc\n"))),
      "hello nc\n",
    );
    const binary = crypto.getRandomValues(new Uint8Array(60000));
    const big = new Uint8Array(600000);
    for (let i = 0; i < 10; i++) big.set(binary, i * 60000);
    deepEqual(await runTool("socat", ["-b", "65536", "-", `TCP:127.0.0.1:${port}`], big), big);
    const args = await runBftp(["echo", `127.0.0.1:${port}`, "one", "two words"]);
    equal(args.code, 0, args.stderr);
    equal(args.stdout, "one\ntwo words\n");
    const lines = await runBftp(["echo", `127.0.0.1:${port}`], { stdin: "x\n\ny\nlast" });
    equal(lines.code, 0, lines.stderr);
    equal(lines.stdout, "x\n\ny\nlast");

    server.signal("SIGUSR1");
    await server.waitForStderr(/^total: 4 connections, 600032 bytes echoed$/m);
    ok(/^worker 1: \d+ connections( \(\d+ open\))?, \d+ bytes echoed$/m.test(server.stderr()));
    ok(/^worker 2: \d+ connections( \(\d+ open\))?, \d+ bytes echoed$/m.test(server.stderr()));
    ok(!server.exited());
  } finally {
    const { code, stderr } = await server.stop();
    equal(code, 0, stderr);
    equal(totalConnections(stderr), 4);
  }
});

Deno.test("e2e: bftp echo load mode checks 1,000 connections' replies and the server spreads them over its workers", async () => {
  const server = await startServer(["--workers", "2"]);
  let stopped = false;
  try {
    const run = await runBftp([
      "echo",
      `127.0.0.1:${server.port}`,
      "--connections",
      "1000",
      "--count",
      "5",
      "--size",
      "256",
      "--json",
    ]);
    equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    equal(result.roundTrips, 5000);
    equal(result.bytes, 5000 * 256);
    ok(result.roundTripsPerSecond > 0 && result.p50Ms > 0 && result.p99Ms >= result.p50Ms);
    const human = await runBftp(["echo", `127.0.0.1:${server.port}`, "--count", "10"]);
    equal(human.code, 0, human.stderr);
    ok(/^round trips\/s: [\d,]+$/m.test(human.stdout), human.stdout);
    ok(/^latency: p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms$/m.test(human.stdout));
    const { code, stderr } = await server.stop();
    stopped = true;
    equal(code, 0);
    equal(totalConnections(stderr), 1010);
    const perWorker = [...stderr.matchAll(/^worker (\d): (\d+) connections/gm)];
    equal(perWorker.length, 2);
    for (const m of perWorker) ok(Number(m[2]) > 0, `worker ${m[1]} served none: ${stderr}`);
  } finally {
    if (!stopped) await server.stop();
  }
});

Deno.test("e2e: echo-server replaces a crashed worker; its clients lose their connection, the others and new ones are served", async () => {
  const server = await startServer(["--workers", "2"], { BFTP_ECHO_TEST_HOOKS: "1" });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
    }
    const ping = async (conn: Deno.Conn): Promise<"ok" | "lost"> => {
      try {
        await conn.write(new Uint8Array([7]));
        const buf = new Uint8Array(1);
        return (await conn.read(buf)) === 1 && buf[0] === 7 ? "ok" : "lost";
      } catch (e) {
        if (e instanceof Deno.errors.ConnectionReset) return "lost";
        throw e;
      }
    };
    for (const conn of conns) equal(await ping(conn), "ok");
    server.signal("SIGUSR1");
    const before = await server.waitForStderr(/^worker 1: (\d+) connections \((\d+) open\)/m);
    const victimOpen = Number(before[2]);
    ok(victimOpen > 0 && victimOpen < 20, `worker 1 holds ${victimOpen} of 20`);

    server.signal("SIGUSR2");
    await server.waitForStderr(/^worker 1 died: Error: Crashed on purpose \(test hook\)/m);
    await server.waitForStderr(/^worker 3 listens in place of worker 1$/m);
    const outcomes = await Promise.all(conns.map(ping));
    equal(outcomes.filter((o) => o === "lost").length, victimOpen);

    const load = await runBftp(["echo", `127.0.0.1:${server.port}`, "--connections", "100"]);
    equal(load.code, 0, load.stderr);
    ok(!server.exited(), "the server exited");
  } finally {
    for (const conn of conns) conn.close();
    const { code, stderr } = await server.stop();
    equal(code, 0, stderr);
    ok(
      /^worker 1: \d+ connections, \d+ bytes echoed \(died: Error: Crashed on purpose \(test hook\); replaced by worker 3\)$/m
        .test(stderr),
      stderr,
    );
    const third = stderr.match(/^worker 3: (\d+) connections/m);
    ok(third && Number(third[1]) > 0, `worker 3 served none: ${stderr}`);
  }
});

Deno.test("e2e: bftp echo and echo-server exit with usage and connection error codes", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  try {
    const inUse = await runBftp(["echo-server", "--port", String(port), "--workers", "1"]);
    equal(inUse.code, 4);
    equal(inUse.stderr, `bftp: Cannot listen on "127.0.0.1:${port}": address in use\n`);
  } finally {
    probe.close();
  }
  const refused = await runBftp(["echo", `127.0.0.1:${port}`, "hi"]);
  equal(refused.code, 4);
  equal(refused.stderr, `bftp: Cannot connect to "127.0.0.1:${port}": connection refused\n`);
  const cases: [string[], RegExp][] = [
    [["echo", "nowhere"], /Invalid address "nowhere": expected HOST:PORT/],
    [["echo", "127.0.0.1:1", "--json"], /--json needs load mode/],
    [["echo", "127.0.0.1:1", "--count", "0"], /Invalid value "0" for --count/],
    [["echo", "127.0.0.1:1", "--connections", "999999"], /at most \d+ \(the open-file limit/],
    [["echo-server", "--workers", "0"], /Invalid value "0" for --workers/],
    [["echo-server", "extra"], /Unexpected argument "extra"/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runBftp(args);
    equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    ok(pattern.test(r.stderr), r.stderr);
  }
});

Deno.test("e2e: bftp echo refuses a line of stdin over 16 MiB (exit 5), as its help says", async () => {
  await using silent = silentListener();
  const line = new Uint8Array(16 * 1024 * 1024 + 2).fill(0x61);
  line[line.length - 1] = 0x0a;
  const r = await runBftp(["echo", `127.0.0.1:${silent.port}`], { stdin: line });
  equal(r.code, 5, r.stderr);
  equal(r.stderr, "bftp: Message longer than the limit of 16777216 bytes\n");
});
