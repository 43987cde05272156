/**
 * HTTP targets: turns an `http://` or `https://` URL, or a redirect's
 * `Location` relative to one, into what a raw-socket client needs (the
 * address to connect to, the request target, the `Host` header).
 *
 * @module
 */

/** Where one HTTP request goes. */
export interface HttpTarget {
  /** The URL, normalized, without its fragment. */
  href: string;
  /** `"http"` or `"https"`. */
  scheme: "http" | "https";
  /** The host to connect to: a name or an IP literal, without brackets. */
  hostname: string;
  /** The port to connect to (80 or 443 when the URL names none). */
  port: number;
  /** The request target: the path and the query, always starting with `/`. */
  path: string;
  /** The value of the `Host` header: brackets around IPv6, a port only when not the default. */
  host: string;
  /** The peer for messages: `host:port`, with brackets around IPv6. */
  authority: string;
}

const DEFAULT_PORTS = { http: 80, https: 443 } as const;

/**
 * Parses an absolute HTTP URL. A URL with no scheme is taken as `http://`.
 *
 * @param text The URL as typed: `http://example.com/a?q=1`, `https://[::1]:8443/`.
 * @returns The target.
 * @throws {TypeError} When the text is not an HTTP URL bftp can fetch (a
 * message saying why, the URL quoted).
 *
 * @example
 * ```ts
 * import { parseHttpUrl } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const t = parseHttpUrl("http://[::1]:8080/search?q=python+socket");
 * deepEqual([t.hostname, t.port, t.path, t.host], ["::1", 8080, "/search?q=python+socket", "[::1]:8080"]);
 * deepEqual(parseHttpUrl("https://example.com").path, "/");
 * ```
 */
export function parseHttpUrl(text: string): HttpTarget {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`Invalid URL "${text}"`);
  }
  return targetOf(url, text);
}

/**
 * Resolves a redirect's `Location` (absolute, or relative to the URL that
 * answered) into the next target.
 *
 * @param base The target that sent the redirect.
 * @param location The `Location` header's value.
 * @returns The target to request next.
 * @throws {TypeError} When the location is not a usable HTTP URL.
 *
 * @example
 * ```ts
 * import { parseHttpUrl, resolveLocation } from "./url.ts";
 * import { deepEqual } from "node:assert/strict";
 *
 * const base = parseHttpUrl("http://127.0.0.1:8080/a/b?x=1");
 * deepEqual(resolveLocation(base, "c").href, "http://127.0.0.1:8080/a/c");
 * deepEqual(resolveLocation(base, "/d").path, "/d");
 * deepEqual(resolveLocation(base, "https://example.com/").port, 443);
 * ```
 */
export function resolveLocation(base: HttpTarget, location: string): HttpTarget {
  let url: URL;
  try {
    url = new URL(location, base.href);
  } catch {
    throw new TypeError(`Invalid redirect location "${location}"`);
  }
  return targetOf(url, location);
}

function targetOf(url: URL, text: string): HttpTarget {
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== "http" && scheme !== "https") {
    throw new TypeError(`Unsupported URL scheme "${scheme}" in "${text}": expected http or https`);
  }
  if (url.hostname === "") throw new TypeError(`No host in URL "${text}"`);
  if (url.username !== "" || url.password !== "") {
    throw new TypeError(`Credentials in URLs are not supported: "${text}"`);
  }
  const port = url.port === "" ? DEFAULT_PORTS[scheme] : Number(url.port);
  if (port === 0) throw new TypeError(`Invalid port 0 in URL "${text}"`);
  url.hash = "";
  const bracketed = url.hostname;
  const hostname = bracketed.startsWith("[") ? bracketed.slice(1, -1) : bracketed;
  return {
    href: url.href,
    scheme,
    hostname,
    port,
    path: `${url.pathname || "/"}${url.search}`,
    host: url.host,
    authority: `${bracketed}:${port}`,
  };
}
