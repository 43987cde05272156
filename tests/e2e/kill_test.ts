// End-to-end kill tests: `bftp put` and `bftp get` killed at random moments
// (SIGKILL mostly, some SIGTERM), and `bftp serve` killed (SIGKILL) during
// uploads then started again on the same root. After every trial: never a
// partial file under the final name; an existing file is either the old one or
// the new one, whole; the server removes an aborted upload's temporary file at
// once, and any temporary left by a killed process is gone after the next start
// (of the server, or of a download to the same DEST).
//
// Trial counts: BFTP_KILL_TRIALS (client kills, default 100) and
// BFTP_SERVER_KILL_TRIALS (server kills, default 20).

import { equal, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import { recordFigures } from "../proof_figures.ts";
import {
  BFTP_BIN,
  findTemporaries,
  type ServeHandle,
  sha256File,
  startServe,
  tempDir,
  waitFor,
  writeRandomFile,
} from "./helpers.ts";

const CLIENT_TRIALS = Number(Deno.env.get("BFTP_KILL_TRIALS") ?? 100);
const SERVER_TRIALS = Number(Deno.env.get("BFTP_SERVER_KILL_TRIALS") ?? 20);

/** A small seeded generator, so a failing trial can be replayed from the seed in its message. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function hashOrNull(path: string): Promise<string | null> {
  try {
    return await sha256File(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Runs bftp with `args`, kills it with `signal` once `moment` resolves (if still running). */
async function runAndKill(
  args: string[],
  moment: () => Promise<unknown>,
  signal: Deno.Signal,
): Promise<{ killed: boolean; code: number }> {
  const child = new Deno.Command(BFTP_BIN, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  await Promise.race([moment(), status]);
  let killed = false;
  if (!exited) {
    try {
      child.kill(signal);
      killed = true;
    } catch (e) {
      if (!(e instanceof TypeError)) throw e; // it exited meanwhile
    }
  }
  const s = await status;
  return { killed, code: s.code };
}

/** Server temporaries (`.bftp-tmp-*.part`) anywhere under the root. */
async function serverTemporaries(root: string): Promise<string[]> {
  return (await findTemporaries(root)).filter((p) => /(^|\/)\.bftp-tmp-[^/]*\.part$/.test(p));
}

/** How long one whole transfer takes, to spread the kills over a client's whole life. */
async function timeOne(args: string[]): Promise<number> {
  const started = performance.now();
  const { code } = await new Deno.Command(BFTP_BIN, { args, stdout: "null", stderr: "null" })
    .output();
  equal(code, 0, `calibration run of bftp ${args.join(" ")}`);
  return performance.now() - started;
}

Deno.test(`e2e: ${CLIENT_TRIALS} clients killed at random moments of PUT and GET: never a partial file, temporaries gone`, async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const seed = Number(Deno.env.get("BFTP_KILL_SEED") ?? Date.now() % 2 ** 31);
  const random = rng(seed);
  // Files on the server to download, and local files to upload: 4 to 16 MiB.
  const serverFiles = new Map<string, string>();
  const localFiles = new Map<string, string>();
  for (let i = 0; i < 4; i++) {
    const size = (4 << 20) + Math.floor(random() * (12 << 20));
    serverFiles.set(`g${i}`, await writeRandomFile(root.join(`g${i}`), size));
    localFiles.set(`src${i}`, await writeRandomFile(local.join(`src${i}`), size + 4096));
  }
  for (const lane of [0, 1]) {
    await Deno.mkdir(local.join(`dl${lane}`));
    await Deno.mkdir(root.join(`up${lane}`));
  }
  await using server = await startServe(root.path);
  const putMs = await timeOne(["put", "-q", local.join("src0"), `${server.url}/up0/calibrate`]);
  const getMs = await timeOne(["get", "-q", `${server.url}/g0`, local.join("calibrate")]);
  await Deno.remove(root.join("up0", "calibrate"));
  await Deno.remove(local.join("calibrate"));

  const counts = {
    put: 0,
    get: 0,
    killed: 0,
    sigterm: 0,
    finishedFirst: 0,
    targetOld: 0,
    targetNew: 0,
    targetAbsent: 0,
    clientTemporariesLeft: 0,
  };
  const failures: string[] = [];
  const started = performance.now();
  // Two trials at a time, each on its own names.
  const lanes = [0, 1];
  let next = 0;
  await Promise.all(lanes.map(async (lane) => {
    while (next < CLIENT_TRIALS) {
      const trial = next++;
      const isPut = trial % 2 === 0;
      const existing = random() < 0.5;
      const signal: Deno.Signal = random() < 0.2 ? "SIGTERM" : "SIGKILL";
      const delay = random() * 1.3 * (isPut ? putMs : getMs);
      const k = Math.floor(random() * 4);
      const where = `trial ${trial} (seed ${seed}): ${isPut ? "PUT" : "GET"} ${
        existing ? "over an existing file" : "to a new name"
      }, ${signal}`;
      let target: string;
      let args: string[];
      let newHash: string;
      if (isPut) {
        target = root.join(`up${lane}`, `lane${lane}-t${k}`);
        newHash = localFiles.get(`src${k}`)!;
        args = ["put", "-q", local.join(`src${k}`), `${server.url}/up${lane}/lane${lane}-t${k}`];
        counts.put++;
      } else {
        target = local.join(`dl${lane}`, `lane${lane}-d${k}`);
        newHash = serverFiles.get(`g${k}`)!;
        args = ["get", "-q", `${server.url}/g${k}`, target];
        counts.get++;
      }
      // The old file: random bytes of its own, or none.
      await Deno.remove(target).catch(() => {});
      const oldHash = existing ? await writeRandomFile(target, 100_000 + trial) : null;
      // Half the kills come at a random moment of the client's life (start, connect, request,
      // body, rename); the other half once the body is flowing (a temporary file exists).
      const inFlight = random() < 0.5;
      const tempFolder = isPut ? root.join(`up${lane}`) : local.join(`dl${lane}`);
      const moment = inFlight
        ? async () => {
          await pollUntil(async () => (await findTemporaries(tempFolder)).length > 0, 3000);
          await sleep(random() * 8);
        }
        : () => sleep(delay);
      const { killed } = await runAndKill(args, moment, signal);
      if (killed) counts.killed++;
      else counts.finishedFirst++;
      if (killed && signal === "SIGTERM") counts.sigterm++;
      // The server ends the session and removes the upload's temporary at once.
      try {
        await waitFor(
          async () => (await serverTemporaries(root.path)).length === 0,
          "the server to drop the aborted upload",
          5000,
        );
      } catch {
        failures.push(`${where}: the server kept ${await serverTemporaries(root.path)}`);
      }
      const now = await hashOrNull(target);
      if (now === newHash) counts.targetNew++;
      else if (now === oldHash && existing) counts.targetOld++;
      else if (now === null && !existing) counts.targetAbsent++;
      else failures.push(`${where}: the file is neither the old one nor the new one, whole`);
      if (!isPut) {
        const left = (await findTemporaries(local.join(`dl${lane}`)))
          .filter((p) => p.startsWith(`.lane${lane}-d${k}.`));
        counts.clientTemporariesLeft += left.length > 0 ? 1 : 0;
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  // The next start of a download to each DEST removes what killed clients left there.
  const leftBefore = (await findTemporaries(local.join("dl0"))).length +
    (await findTemporaries(local.join("dl1"))).length;
  for (const lane of lanes) {
    for (let k = 0; k < 4; k++) {
      const dest = local.join(`dl${lane}`, `lane${lane}-d${k}`);
      const { code } = await new Deno.Command(BFTP_BIN, {
        args: ["get", "-q", `${server.url}/g${k}`, dest],
        stdout: "null",
        stderr: "null",
      }).output();
      equal(code, 0);
      equal(await sha256File(dest), serverFiles.get(`g${k}`));
    }
  }
  for (const lane of lanes) {
    equal((await findTemporaries(local.join(`dl${lane}`))).length, 0, "a next download cleans up");
  }
  equal((await serverTemporaries(root.path)).length, 0);
  equal(failures.length, 0, failures.slice(0, 10).join("\n"));
  equal(counts.put + counts.get, CLIENT_TRIALS);
  // The kills landed: most trials were cut short, and some files were left as they were.
  ok(counts.killed >= CLIENT_TRIALS / 2, JSON.stringify(counts));
  ok(counts.targetOld + counts.targetAbsent > 0, JSON.stringify(counts));
  ok(!server.stderrText().includes("internal error"), server.stderrText());
  // Where the kills landed, as the server saw it: transfers cut in the middle.
  const cutPuts = server.logLines(/ PUT "\/up\d\/.* CONNECTION /).length;
  const cutGets = server.logLines(/ GET "\/g\d" CONNECTION /).length;
  ok(cutPuts > 0 && cutGets + counts.clientTemporariesLeft > 0, JSON.stringify(counts));
  await recordFigures("client kills", {
    seed,
    trials: CLIENT_TRIALS,
    ...counts,
    putsCutMidBody: cutPuts,
    getsCutMidBody: cutGets,
    staleClientTemporariesBeforeNextStart: leftBefore,
    partialFiles: failures.length,
    putMs: Math.round(putMs),
    getMs: Math.round(getMs),
    seconds: Number(seconds.toFixed(1)),
  });
});

/** Polls `check` every 2 ms, up to `ms`; returns whether it held. */
async function pollUntil(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (await check()) return true;
    await sleep(2);
  }
  return false;
}

Deno.test(`e2e: bftp serve killed ${SERVER_TRIALS} times during uploads: old or new file, whole; no temporary after the restart`, async () => {
  await using root = await tempDir();
  await using local = await tempDir();
  const seed = Number(Deno.env.get("BFTP_KILL_SEED") ?? Date.now() % 2 ** 31);
  const random = rng(seed);
  const source = local.join("src");
  const fileHash = await writeRandomFile(source, 6 << 20);
  const counts = {
    killedMidBody: 0,
    targetOld: 0,
    targetNew: 0,
    targetAbsent: 0,
    restartsCleaned: 0,
  };
  const failures: string[] = [];
  const started = performance.now();
  let server: ServeHandle = await startServe(root.path);
  const putMs = await timeOne(["put", "-q", source, `${server.url}/calibrate`]);
  await Deno.remove(root.join("calibrate"));
  try {
    for (let trial = 0; trial < SERVER_TRIALS; trial++) {
      const existing = random() < 0.5;
      const name = `t${trial % 4}`;
      const target = root.join(name);
      await Deno.remove(target).catch(() => {});
      const oldHash = existing ? await writeRandomFile(target, 200_000 + trial) : null;
      const kind = trial % 3;
      const where = `trial ${trial} (seed ${seed}): PUT ${
        existing ? "over a file" : "new"
      }, kind ${kind}`;
      let newHash = fileHash;
      let child: Deno.ChildProcess;
      let feeding: Promise<void> = Promise.resolve();
      if (kind === 0) {
        // A file upload, the server killed at a random moment of the client's whole run.
        child = new Deno.Command(BFTP_BIN, {
          args: ["put", "-q", source, `${server.url}/${name}`],
          stdin: "null",
          stdout: "null",
          stderr: "null",
        }).spawn();
        await sleep(random() * 1.3 * putMs);
      } else {
        // A stream from stdin: killed while the body flows (kind 1), or around its end (kind 2).
        child = new Deno.Command(BFTP_BIN, {
          args: ["put", "-q", "-", `${server.url}/${name}`],
          stdin: "piped",
          stdout: "null",
          stderr: "null",
        }).spawn();
        const data = crypto.getRandomValues(new Uint8Array(65536));
        const chunks = 8 + Math.floor(random() * 40);
        const hash = createHash("sha256");
        const writer = child.stdin.getWriter();
        feeding = (async () => {
          try {
            for (let i = 0; i < chunks; i++) {
              await writer.write(data);
              hash.update(data);
            }
            if (kind === 2) await writer.close();
          } catch {
            // The client died with the server: the rest is not needed.
          }
        })();
        newHash = kind === 2 ? await feeding.then(() => hash.digest("hex")) : "";
        if (kind === 1) {
          await pollUntil(async () => {
            const temps = await serverTemporaries(root.path);
            if (temps.length === 0) return false;
            return (await Deno.stat(root.join(temps[0]!)).catch(() => null))?.size! > 0;
          }, 5000);
        } else {
          await sleep(random() * 30);
        }
        feeding = feeding.then(() => writer.close().catch(() => {}));
      }
      const midBody = (await serverTemporaries(root.path)).length > 0;
      await server.crash();
      await child.status;
      await feeding;
      if (midBody) counts.killedMidBody++;
      const now = await hashOrNull(target);
      if (now === newHash) counts.targetNew++;
      else if (now === oldHash && existing) counts.targetOld++;
      else if (now === null && !existing) counts.targetAbsent++;
      else failures.push(`${where}: the file is neither the old one nor the new one, whole`);
      const leftover = (await serverTemporaries(root.path)).length;
      server = await startServe(root.path);
      if (leftover > 0) counts.restartsCleaned++;
      const after = await serverTemporaries(root.path);
      if (after.length > 0) failures.push(`${where}: temporaries after the restart: ${after}`);
      // The restart did not touch the target.
      if (await hashOrNull(target) !== now) failures.push(`${where}: the restart changed the file`);
    }
  } finally {
    await server.stop();
  }
  equal(failures.length, 0, failures.join("\n"));
  ok(counts.killedMidBody > 0 && counts.restartsCleaned > 0, JSON.stringify(counts));
  await recordFigures("server kills", {
    seed,
    trials: SERVER_TRIALS,
    ...counts,
    partialFiles: failures.length,
    seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  });
});
