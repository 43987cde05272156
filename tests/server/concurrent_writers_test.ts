// Concurrent writers: in each of many rounds, several clients PUT the same name
// at once (sized and chunked bodies, different sizes, chunked differently on the
// wire) while another client keeps downloading it. Every round must end with a
// file equal to exactly one of the uploads, whole; every download during the
// round must be one whole version; no temporary file may be left; and HASH must
// agree with the bytes on disk (the hash cache never answers for a replaced file).

import { deepEqual, equal, ok } from "node:assert/strict";
import { RemoteError } from "../../lib/errors.ts";
import {
  MemoryReader,
  MemoryWriter,
  randomBytes,
  randomInt,
  seededRandom,
} from "../framing/helpers.ts";
import { recordFigures } from "../proof_figures.ts";
import { hostTree, startTestServer } from "./helpers.ts";
import { hashIn, sha256 } from "../helpers.ts";

const ROUNDS = 40;
const WRITERS = 6;

Deno.test(`server: ${WRITERS} clients PUT the same name at once, ${ROUNDS} rounds: the file is exactly one upload every time`, async () => {
  await using srv = await startTestServer({ files: { "shared/": "" } });
  const rng = seededRandom(0xc0ffee);
  const writers = await Promise.all(Array.from({ length: WRITERS }, () => srv.connect()));
  const reader = await srv.connect();
  const wins = new Array<number>(WRITERS).fill(0);
  let downloads = 0;
  let versions = new Set<string>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const bodies = writers.map((_, w) =>
        randomBytes(seededRandom(round * 100 + w), randomInt(rng, 1, 400_000))
      );
      const hashes = bodies.map(sha256);
      const before = new Set(versions);
      let writing = true;
      // A reader that downloads all through the round: each download is one whole version.
      // (Before the fix of ServedRoot's commit, these downloads failed their checksum: the
      // hash cache had tied one upload's hash to the file another upload had just renamed
      // into place.)
      const failures: string[] = [];
      const reading = (async () => {
        const seen: string[] = [];
        while (writing) {
          const sink = new MemoryWriter();
          try {
            const got = await reader.get("/shared/same.bin", sink);
            if (got.hash !== await hashIn(got.checksum, sink.bytes)) {
              failures.push("a download's hash lied");
            }
            seen.push(sha256(sink.bytes));
          } catch (e) {
            if (e instanceof RemoteError && e.code === "NOT_FOUND" && round === 0) continue;
            failures.push(`round ${round}: a download failed: ${String(e)}`);
            break;
          }
        }
        return seen;
      })();
      const results = await Promise.all(writers.map((client, w) => {
        const data = bodies[w]!;
        const sized = (round + w) % 2 === 0;
        const schedule = Array.from({ length: 8 }, () => randomInt(rng, 1, 100_000));
        return client.put("/shared/same.bin", new MemoryReader(data, schedule), {
          size: sized ? data.byteLength : null,
        });
      }));
      writing = false;
      const seen = await reading;
      deepEqual(failures, []);
      downloads += seen.length;
      // Each upload was confirmed with its own hash.
      deepEqual(
        results.map((r) => r.hash),
        await Promise.all(bodies.map((b) => hashIn("xxh3-128", b))),
      );
      const final = sha256(await Deno.readFile(`${srv.root}/shared/same.bin`));
      const winner = hashes.indexOf(final);
      ok(winner >= 0, `round ${round}: the file is none of the uploads`);
      equal(hashes.lastIndexOf(final), winner, `round ${round}: two uploads were equal`);
      wins[winner]!++;
      for (const h of seen) {
        ok(hashes.includes(h) || before.has(h), `round ${round}: a download saw a mix`);
      }
      equal((await reader.hash("/shared/same.bin")).sha256, final, `round ${round}: HASH`);
      deepEqual(await hostTree(srv.root), ["shared/", "shared/same.bin"]);
      versions = new Set([final]);
    }
  } finally {
    for (const c of [...writers, reader]) c.close();
  }
  equal(wins.reduce((a, b) => a + b, 0), ROUNDS);
  // The race is real: more than one writer won some round.
  ok(wins.filter((n) => n > 0).length > 1, `wins ${wins}`);
  ok(downloads > 0);
  await recordFigures("concurrent writers", {
    rounds: ROUNDS,
    writers: WRITERS,
    uploads: ROUNDS * WRITERS,
    winsPerWriter: wins,
    downloadsDuringRounds: downloads,
    mixedFiles: 0,
  });
});
