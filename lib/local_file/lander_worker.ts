/**
 * The landing thread of {@linkcode Lander} (`lander.ts`): lands each small
 * verified body it is sent as a new file, atomically (`atomic_file.ts`), and
 * answers with its id and, on failure, the one-line error.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { applyServerAttributes } from "./attributes.ts";
import { AtomicFile } from "./atomic_file.ts";
import { writeAll } from "../framing/write_all.ts";
import type { LandAnswer, LandMessage } from "./lander.ts";

/** Lands one body; the answer names what failed. */
async function land(m: LandMessage): Promise<LandAnswer> {
  try {
    const out = await AtomicFile.create(m.path, { absent: m.absent });
    try {
      await writeAll(out, m.data);
    } catch (e) {
      await out.discard();
      throw e;
    }
    await out.commit((temp) => {
      if (m.mtime !== null || m.mode !== null) applyServerAttributes(temp, m);
    });
    return { id: m.id };
  } catch (e) {
    return { id: m.id, error: e instanceof Error ? e.message : String(e) };
  }
}

self.onmessage = async (e: MessageEvent<LandMessage[]>) => {
  const answers: LandAnswer[] = [];
  for (const m of e.data) answers.push(await land(m));
  self.postMessage(answers);
};
