/**
 * The benchmark's tree of small files: making one, and checking a copy of
 * it byte for byte (scripts/bench_tree.ts).
 *
 * @module
 */

/**
 * Writes `files` files of `bytes` random bytes into `folders` folders
 * under `root` (d000/f00000.bin...).
 *
 * @param root The tree's folder (made here).
 * @param files How many files.
 * @param folders How many folders they are spread over.
 * @param bytes Each file's size.
 *
 * @example
 * ```ts
 * import { makeTree, sameTree } from "./bench_tree_files.ts";
 *
 * const dir = await Deno.makeTempDir();
 * await makeTree(`${dir}/t`, 10, 2, 16);
 * await sameTree(`${dir}/t`, `${dir}/t`);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function makeTree(
  root: string,
  files: number,
  folders: number,
  bytes: number,
): Promise<void> {
  const buf = new Uint8Array(bytes);
  for (let d = 0; d < folders; d++) {
    await Deno.mkdir(`${root}/d${String(d).padStart(3, "0")}`, { recursive: true });
  }
  for (let i = 0; i < files; i++) {
    crypto.getRandomValues(buf);
    const d = String(i % folders).padStart(3, "0");
    await Deno.writeFile(`${root}/d${d}/f${String(i).padStart(5, "0")}.bin`, buf);
  }
}

/**
 * Checks that `copy` holds exactly the files and folders of `source`, byte
 * for byte (no file missing, none extra, no temporary left behind).
 *
 * @param source The original tree.
 * @param copy The copy to check.
 * @throws {Error} Naming the first difference.
 *
 * @example
 * ```ts
 * import { sameTree } from "./bench_tree_files.ts";
 * import { rejects } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * for (const side of ["a", "b"]) {
 *   await Deno.mkdir(`${dir}/${side}/d`, { recursive: true });
 *   await Deno.writeTextFile(`${dir}/${side}/d/f`, "same");
 * }
 * await sameTree(`${dir}/a`, `${dir}/b`);
 * await Deno.writeTextFile(`${dir}/b/d/f`, "sane");
 * await rejects(sameTree(`${dir}/a`, `${dir}/b`), /differs/);
 * await Deno.writeTextFile(`${dir}/b/d/.f.bftp-part`, "");
 * await rejects(sameTree(`${dir}/a`, `${dir}/b`), /not in the source/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function sameTree(source: string, copy: string): Promise<void> {
  const names = async (dir: string) => {
    const out: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(dir)) out.push(e);
    return out.sort((a, b) => a.name < b.name ? -1 : 1);
  };
  const want = await names(source);
  const got = await names(copy).catch(() => []);
  const wantNames = want.map((e) => e.name).join("/");
  if (wantNames !== got.map((e) => e.name).join("/")) {
    const missing = want.find((e) => !got.some((g) => g.name === e.name));
    const extra = got.find((g) => !want.some((e) => e.name === g.name));
    throw new Error(
      `${copy}: ${missing ? `"${missing.name}" missing` : `"${extra?.name}" not in the source`}`,
    );
  }
  for (const e of want) {
    const a = `${source}/${e.name}`, b = `${copy}/${e.name}`;
    if (e.isDirectory) {
      await sameTree(a, b);
      continue;
    }
    const [x, y] = await Promise.all([Deno.readFile(a), Deno.readFile(b)]);
    if (x.length !== y.length || !x.every((v, i) => v === y[i])) {
      throw new Error(`${b} differs from the source`);
    }
  }
}
