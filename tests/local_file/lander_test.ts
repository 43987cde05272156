import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { LocalIoError } from "../../lib/errors.ts";
import { Lander, LandingFile, PROBE_CREATES, SLOW_CREATE_MS } from "../../lib/local_file/mod.ts";
import { BodySlab } from "../../lib/transfer/body_buffer.ts";
import { tempDir } from "../helpers.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("local_file: a lander lands many bodies, in batches, with -p's time and mode", async () => {
  await using tmp = await tempDir();
  using lander = new Lander();
  const mtime = 1_500_000_000_000;
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      lander.land({
        path: `${tmp.path}/f${i}`,
        data: bytes(`body ${i}`),
        absent: true,
        mtime,
        mode: 0o640,
      })),
  );
  const names = (await Array.fromAsync(Deno.readDir(tmp.path))).map((e) => e.name);
  deepEqual(names.length, 40, "no temporary is left beside them");
  for (const i of [0, 17, 39]) {
    deepEqual(await Deno.readTextFile(`${tmp.path}/f${i}`), `body ${i}`);
    const info = await Deno.stat(`${tmp.path}/f${i}`);
    deepEqual(info.mtime?.getTime(), mtime);
    deepEqual(info.mode! & 0o777, 0o640);
  }
});

Deno.test("local_file: a lander gives a new file the server's bits without -p, and a replaced one keeps its own", async () => {
  await using tmp = await tempDir();
  using lander = new Lander();
  await Deno.writeTextFile(`${tmp.path}/old`, "mine");
  await Deno.chmod(`${tmp.path}/old`, 0o640);
  const land = (name: string, absent: boolean) =>
    lander.land({
      path: `${tmp.path}/${name}`,
      data: bytes(name),
      absent,
      mtime: null,
      mode: null,
      newMode: 0o600,
    });
  await Promise.all([land("new", true), land("unlisted", false), land("old", false)]);
  const modes = await Promise.all(
    ["new", "unlisted", "old"].map(async (n) =>
      (await Deno.stat(`${tmp.path}/${n}`)).mode! & 0o777
    ),
  );
  deepEqual(modes, [0o600, 0o600, 0o640]);
});

Deno.test("local_file: a lander asks the session to wait while too many bytes are on their way to its thread", async () => {
  await using tmp = await tempDir();
  using lander = new Lander({ pendingBytes: 10 });
  equal(lander.room(), undefined);
  const landed = [
    lander.land({
      path: `${tmp.path}/a`,
      data: bytes("8 bytes!"),
      absent: true,
      mtime: null,
      mode: null,
    }),
  ];
  equal(lander.room(), undefined, "8 of 10 bytes on their way");
  landed.push(
    lander.land({
      path: `${tmp.path}/b`,
      data: bytes("8 more!!"),
      absent: true,
      mtime: null,
      mode: null,
    }),
  );
  const wait = lander.room();
  ok(wait instanceof Promise, "16 of 10 bytes on their way");
  equal(lander.room(), wait, "one wait for all who ask");
  await wait;
  await Promise.all(landed);
  equal(lander.room(), undefined);
  equal(await Deno.readTextFile(`${tmp.path}/b`), "8 more!!");
});

Deno.test("local_file: a stopped lander ends the session's wait for room", async () => {
  const lander = new Lander({ pendingBytes: 1 });
  const landed = lander.land({
    path: "/nonexistent-folder/x",
    data: bytes("ab"),
    absent: true,
    mtime: null,
    mode: null,
  });
  const wait = lander.room();
  ok(wait instanceof Promise);
  lander[Symbol.dispose]();
  await wait;
  await rejects(landed, LocalIoError);
});

Deno.test("local_file: a lander lands pieces of one slab, leaving the slab usable here", async () => {
  await using tmp = await tempDir();
  using lander = new Lander();
  const slab = new BodySlab(64);
  const pieces = ["one", "two", "three"].map((text) => {
    const piece = slab.take(text.length);
    piece.set(bytes(text));
    return { text, piece };
  });
  await Promise.all(
    pieces.map(({ text, piece }) =>
      lander.land({
        path: `${tmp.path}/${text}`,
        data: piece,
        absent: true,
        mtime: null,
        mode: null,
      })
    ),
  );
  for (const { text, piece } of pieces) {
    equal(await Deno.readTextFile(`${tmp.path}/${text}`), text);
    equal(new TextDecoder().decode(piece), text, "the slab was copied from, not taken");
  }
});

Deno.test("local_file: a lander reports a missing folder as a LocalIoError and goes on", async () => {
  await using tmp = await tempDir();
  using lander = new Lander();
  const bad = lander.land({
    path: `${tmp.path}/no/such/f`,
    data: bytes("x"),
    absent: true,
    mtime: null,
    mode: null,
  });
  const good = lander.land({
    path: `${tmp.path}/g`,
    data: bytes("y"),
    absent: true,
    mtime: null,
    mode: null,
  });
  await rejects(bad, (e: unknown) => e instanceof LocalIoError && e.message.includes("no/such"));
  await good;
  deepEqual(await Deno.readTextFile(`${tmp.path}/g`), "y");
});

Deno.test("local_file: a replaced file keeps its mode through a lander; a stopped lander refuses what is pending", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/private`, "old");
  await Deno.chmod(`${tmp.path}/private`, 0o600);
  const lander = new Lander();
  try {
    await lander.land({
      path: `${tmp.path}/private`,
      data: bytes("new"),
      absent: false,
      mtime: null,
      mode: null,
    });
    deepEqual(await Deno.readTextFile(`${tmp.path}/private`), "new");
    deepEqual((await Deno.stat(`${tmp.path}/private`)).mode! & 0o777, 0o600);
  } finally {
    const pending = lander.land({
      path: `${tmp.path}/late`,
      data: bytes("z"),
      absent: true,
      mtime: null,
      mode: null,
    });
    lander[Symbol.dispose]();
    await rejects(pending, LocalIoError);
  }
});

Deno.test("local_file: a lander starts only for enough small files", () => {
  deepEqual(Lander.startFor([{ size: 1 }, { size: 2 }], undefined, 3), undefined);
  deepEqual(
    Lander.startFor([{ size: 1 }, { size: Lander.MAX_BODY + 1 }, { size: 2 }], undefined, 3),
    undefined,
  );
  const lander = Lander.startFor(
    [{ size: 1 }, { size: 2 }, { size: Lander.MAX_BODY }],
    undefined,
    3,
  );
  ok(lander instanceof Lander);
  lander[Symbol.dispose]();
});

Deno.test("local_file: a probing lander starts its thread only after slow creates", async () => {
  await using tmp = await tempDir();
  using quick = new Lander({ probe: true });
  for (let i = 0; i < PROBE_CREATES; i++) quick.observeCreate(SLOW_CREATE_MS / 4);
  equal(quick.threaded, false);
  await rejects(() =>
    quick.land({
      path: `${tmp.path}/x`,
      data: new Uint8Array(1),
      absent: true,
      mtime: null,
      mode: null,
    })
  );
  using slow = new Lander({ probe: true });
  for (let i = 0; i < PROBE_CREATES - 1; i++) slow.observeCreate(SLOW_CREATE_MS * 4);
  equal(slow.threaded, false, "not before the last sample");
  slow.observeCreate(SLOW_CREATE_MS * 4);
  equal(slow.threaded, true);
  await slow.land({
    path: `${tmp.path}/a`,
    data: new TextEncoder().encode("hi"),
    absent: true,
    mtime: null,
    mode: null,
  });
  equal(await Deno.readTextFile(`${tmp.path}/a`), "hi");
});

Deno.test("local_file: a LandingFile writes its temporary where it is while its lander probes", async () => {
  await using tmp = await tempDir();
  using lander = new Lander({ probe: true });
  const out = await LandingFile.open(`${tmp.path}/b`, { absent: true, lander });
  await out.write(new TextEncoder().encode("here"));
  // Its temporary is there already, beside the final name.
  equal((await Array.fromAsync(Deno.readDir(tmp.path))).length, 1);
  await out.commit(null);
  equal(await Deno.readTextFile(`${tmp.path}/b`), "here");
  equal(lander.threaded, false);
});
