/**
 * A Node built-in module (`node:tls`, `node:crypto`), loaded the first time
 * it is asked for rather than by an `import` statement. Deno loads a
 * built-in's JavaScript when a module that imports it loads, and a bundle
 * (`scripts/bundle.ts`) hoists every such import of its modules to its top:
 * so the client's TLS modules, bundled with a command, would load
 * `node:tls`, `node:net`, `node:stream` and `node:crypto` at every start (an
 * empty `get -r` 56 ms instead of 42), TLS or not.
 *
 * @module
 */

/**
 * The built-in module `name`, loaded now if it was not yet
 * (`process.getBuiltinModule`, synchronous).
 *
 * @param name The module, such as `"node:tls"`.
 * @returns The module; type it with `typeof import("node:tls")`.
 *
 * @example
 * ```ts
 * import { nodeBuiltin } from "./node_builtin.ts";
 * import { equal } from "node:assert/strict";
 *
 * const net = nodeBuiltin<typeof import("node:net")>("node:net");
 * equal(net.isIP("127.0.0.1"), 4);
 * ```
 */
export function nodeBuiltin<T>(name: `node:${string}`): T {
  return process.getBuiltinModule(name) as T;
}
