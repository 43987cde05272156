/**
 * The figures the proof tests measure (paths x verbs, trials, descriptor
 * counts...), for docs/SECURITY.md. Tests never print; when the environment
 * variable `BFTP_PROOF_LOG` names a file, each test appends one JSON line
 * to it with what it measured:
 *
 *     BFTP_PROOF_LOG=/tmp/proof.jsonl scripts/test
 *
 * @module
 */

/**
 * Appends one test's figures to `$BFTP_PROOF_LOG`, if set.
 *
 * @param test The test's name.
 * @param figures What it measured.
 */
export async function recordFigures(test: string, figures: Record<string, unknown>): Promise<void> {
  const path = Deno.env.get("BFTP_PROOF_LOG");
  if (!path) return;
  await Deno.writeTextFile(path, JSON.stringify({ test, ...figures }) + "\n", { append: true });
}
