/**
 * `bftp sync`: mirror a folder either way, sending only what changed.
 *
 * - {@linkcode PathFilter}, {@linkcode readExcludeFrom}: the include and
 *   exclude rules (`--include`, `--exclude`, `--exclude-from`)
 *
 * @module
 */

export * from "./filter.ts";
