/**
 * Keeps the limits table of docs/SECURITY.md ("Features and limits") true:
 * every default there is the value of the constant it names, and every
 * server default in `lib/server/limits.ts` is in the table.
 *
 * @module
 */

import { equal, ok } from "node:assert/strict";
import * as protocolLimits from "../../lib/protocol/limits.ts";
import * as serverLimits from "../../lib/server/limits.ts";
import { MAX_TOKEN_BYTES } from "../../lib/server/auth.ts";
import { RESUME_EXPIRY_HOURS } from "../../lib/root/paths.ts";
import { BODY_BUFFER_BYTES } from "../../lib/transfer/body.ts";

const DOC = new URL("../../docs/SECURITY.md", import.meta.url);

const CONSTANTS: Record<string, unknown> = {
  ...protocolLimits,
  ...serverLimits,
  MAX_TOKEN_BYTES,
  RESUME_EXPIRY_HOURS,
  BODY_BUFFER_BYTES,
};

/** The rows of the table under "### Limits and their defaults": constant -> default cell. */
async function limitsTable(): Promise<Map<string, string>> {
  const doc = await Deno.readTextFile(DOC);
  const start = doc.indexOf("### Limits and their defaults");
  ok(start >= 0, "docs/SECURITY.md has no limits table");
  const rows = new Map<string, string>();
  for (const line of doc.slice(start).split("\n").slice(1)) {
    if (line.startsWith("#")) break;
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 5) continue;
    const name = /^`([A-Z_]+)`/.exec(cells[4]!)?.[1];
    if (name !== undefined) rows.set(name, cells[2]!);
  }
  return rows;
}

Deno.test("security doc: each default in the limits table is its constant's value", async () => {
  const rows = await limitsTable();
  ok(rows.size >= 15, `only ${rows.size} rows`);
  for (const [name, cell] of rows) {
    ok(name in CONSTANTS, `"${name}" is not a constant the test knows`);
    equal(Number(/^\d+/.exec(cell)?.[0]), CONSTANTS[name], `the default of "${name}"`);
  }
});

Deno.test("security doc: every server default and size limit is in the table", async () => {
  const rows = await limitsTable();
  for (const [name, value] of Object.entries({ ...serverLimits, ...protocolLimits })) {
    if (typeof value !== "number") continue;
    ok(rows.has(name), `docs/SECURITY.md does not list "${name}"`);
  }
});
