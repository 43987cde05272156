/**
 * The server's side of the requests on the namespace, each one call to the
 * served root and one reply: CD, STAT, LIST, HASH, DELETE, MKDIR, RMDIR,
 * RENAME and SETSTAT. (GET and PUT, which move bodies, have modules of their own.)
 *
 * @module
 */

import { RemoteError } from "../errors.ts";
import type { Request } from "../protocol/messages.ts";
import type { ReplyFields } from "../protocol/replies.ts";
import { namesFolder, quotePath } from "../root/paths.ts";
import type { ServedRoot } from "../root/served_root.ts";
import { fileOnly, statInForm } from "./folder_form.ts";

/** A request on the namespace. */
export type NamespaceRequest = Extract<
  Request,
  { op: "CD" | "STAT" | "LIST" | "HASH" | "DELETE" | "MKDIR" | "RMDIR" | "RENAME" | "SETSTAT" }
>;

/** A session as the namespace requests see it. */
export interface NamespaceContext {
  /** The served folder. */
  readonly root: ServedRoot;
  /** A request's path, resolved against the session's current folder. */
  resolve(path: string): string;
  /** The same, for a change: refused (DENIED) when the session may only read. */
  writable(path: string): string;
  /** Sends a success reply with these fields. */
  reply(fields: ReplyFields): Promise<void>;
  /** Sets the session's current folder (CD). */
  setCwd(cwd: string): void;
}

/**
 * Answers one request on the namespace; an error is thrown for the session
 * to answer.
 *
 * @param ctx The session.
 * @param req The request.
 *
 * @example
 * ```ts
 * import { handleNamespace } from "./namespace_handlers.ts";
 * import { ServedRoot } from "../root/served_root.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const root = await ServedRoot.open(dir);
 * const replies: unknown[] = [];
 * const ctx = {
 *   root,
 *   resolve: (p: string) => p,
 *   writable: (p: string) => p,
 *   reply: (fields: unknown) => (replies.push(fields), Promise.resolve()),
 *   setCwd: () => {},
 * };
 * await handleNamespace(ctx, { op: "MKDIR", path: "/a", parents: false });
 * await handleNamespace(ctx, { op: "LIST", path: "/" });
 * deepEqual((replies[1] as { entries: { name: string }[] }).entries.map((e) => e.name), ["a"]);
 * root.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function handleNamespace(ctx: NamespaceContext, req: NamespaceRequest): Promise<void> {
  const { root } = ctx;
  switch (req.op) {
    case "CD": {
      const target = ctx.resolve(req.path);
      const entry = await root.stat(target);
      if (entry.type !== "dir") {
        throw new RemoteError("NOT_DIR", `${quotePath(target)} is not a folder`);
      }
      ctx.setCwd(target);
      return await ctx.reply({ cwd: target });
    }
    case "STAT": {
      const vpath = ctx.resolve(req.path);
      return await ctx.reply({ entry: statInForm(req.path, vpath, await root.stat(vpath)) });
    }
    case "LIST":
      return await ctx.reply({ entries: await root.list(ctx.resolve(req.path)) });
    case "HASH":
      return await ctx.reply(
        await root.hash(await fileOnly(root, req.path, ctx.resolve(req.path))),
      );
    case "DELETE":
      await root.remove(await fileOnly(root, req.path, ctx.writable(req.path)));
      break;
    case "MKDIR":
      await root.mkdir(ctx.writable(req.path), req.parents, req.newMode);
      break;
    case "RMDIR":
      await root.rmdir(ctx.writable(req.path));
      break;
    case "RENAME":
      await root.rename(ctx.writable(req.from), ctx.writable(req.to), {
        from: namesFolder(req.from),
        to: namesFolder(req.to),
      });
      break;
    case "SETSTAT":
      await root.setAttributes(
        ctx.writable(req.path),
        { mtime: req.mtime, mode: req.mode },
        namesFolder(req.path),
      );
      break;
  }
  await ctx.reply({});
}
