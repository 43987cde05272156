import { deepEqual } from "node:assert/strict";
import { Lander, LandingFile } from "../../lib/local_file/mod.ts";
import { sha256, sha256File, tempDir } from "../helpers.ts";

async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("local_file: a held body appears only at commit, whole", async () => {
  await using tmp = await tempDir();
  using lander = new Lander();
  const out = await LandingFile.open(`${tmp.path}/a`, { absent: true, lander });
  const chunk = new Uint8Array(1000).fill(7);
  await out.write(chunk);
  chunk.fill(9); // the caller reuses its buffer: what was written is kept
  await out.write(chunk);
  deepEqual(await names(tmp.path), [], "nothing on disk before the commit");
  await out.commit(null);
  const data = await Deno.readFile(`${tmp.path}/a`);
  deepEqual(data.byteLength, 2000);
  deepEqual([data[0], data[1999]], [7, 9]);
});

Deno.test("local_file: a body past MAX_BODY spills to a temporary file and lands whole", async () => {
  await using tmp = await tempDir();
  using lander = new Lander();
  const out = await LandingFile.open(`${tmp.path}/big`, { absent: true, lander });
  const chunk = crypto.getRandomValues(new Uint8Array(60_000));
  const whole: Uint8Array[] = [];
  for (let i = 0; i < 6; i++) {
    await out.write(chunk);
    whole.push(chunk.slice());
  }
  const temps = await names(tmp.path);
  deepEqual(temps.length, 1, "the temporary exists once the body is too large to hold");
  deepEqual(temps[0]!.startsWith(".big.bftp-tmp-"), true);
  await out.commit({ mtime: 1_400_000_000_000, mode: 0o600 });
  deepEqual(await names(tmp.path), ["big"]);
  deepEqual(
    await sha256File(`${tmp.path}/big`),
    sha256(new Uint8Array(whole.flatMap((c) => [...c]))),
  );
  deepEqual((await Deno.stat(`${tmp.path}/big`)).mtime?.getTime(), 1_400_000_000_000);
});

Deno.test("local_file: a discarded output leaves nothing, held or spilled", async () => {
  await using tmp = await tempDir();
  using lander = new Lander();
  const held = await LandingFile.open(`${tmp.path}/a`, { lander });
  await held.write(new Uint8Array(10));
  await held.discard();
  const direct = await LandingFile.open(`${tmp.path}/b`);
  await direct.write(new Uint8Array(10));
  await direct.discard();
  deepEqual(await names(tmp.path), []);
});
