/**
 * How the server's log names a request: its op and paths, quoted, never a
 * token.
 *
 * @module
 */

import type { Request } from "../protocol/messages.ts";
import { quotePath } from "../root/paths.ts";

/**
 * A request as one log line names it.
 *
 * @param req The request.
 * @returns Its op and paths (AUTH without its token).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { describeRequest } from "./describe_request.ts";
 *
 * equal(describeRequest({ op: "AUTH", token: "secret" }), "AUTH");
 * ```
 */
export function describeRequest(req: Request): string {
  switch (req.op) {
    case "PWD":
    case "QUIT":
    case "AUTH": // never the token
      return req.op;
    case "RENAME":
      return `RENAME ${quotePath(req.from)} ${quotePath(req.to)}`;
    case "GET":
      return `GET ${quotePath(req.path)}${req.offset ? ` from ${req.offset}` : ""}${
        req.length === undefined ? "" : ` (${req.length} bytes)`
      }`;
    case "MGET":
    case "MPUT":
      return `${req.op} ${req.paths.length} ${req.paths.length === 1 ? "path" : "paths"} from ${
        quotePath(req.paths[0]!)
      }`;
    case "PUT":
      return `PUT ${quotePath(req.path)}${
        req.resume ? " (resumable)" : req.base ? " (delta)" : ""
      }`;
    default:
      return `${req.op} ${quotePath(req.path)}`;
  }
}
