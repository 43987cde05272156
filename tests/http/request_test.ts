import { deepEqual, throws } from "node:assert/strict";
import { encodeRequest, parseHeaderField } from "../../lib/http/request.ts";
import { parseHttpUrl } from "../../lib/http/url.ts";
import { VERSION } from "../../lib/version.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("http: encodeRequest() sends an HTTP/1.0 GET with Host, User-Agent and Connection", () => {
  deepEqual(
    text(encodeRequest(parseHttpUrl("http://[::1]:8080/search?q=a+b"))),
    "GET /search?q=a+b HTTP/1.0\r\nHost: [::1]:8080\r\n" +
      `User-Agent: bftp/${VERSION}\r\nConnection: close\r\n\r\n`,
  );
});

Deno.test("http: encodeRequest() lets extra headers add, replace and remove fields", () => {
  const bytes = encodeRequest(parseHttpUrl("http://example.com/"), {
    headers: [["user-agent", "probe/1"], ["Connection", ""], ["X-A", "1"], ["X-A", "2"]],
  });
  deepEqual(
    text(bytes),
    "GET / HTTP/1.0\r\nHost: example.com\r\nuser-agent: probe/1\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
  );
});

Deno.test("http: parseHeaderField() takes curl's -H form and refuses bad ones", () => {
  deepEqual(parseHeaderField("Accept: text/html"), ["Accept", "text/html"]);
  deepEqual(parseHeaderField("X-Empty:"), ["X-Empty", ""]);
  deepEqual(parseHeaderField("X-Tab:\ta\tb "), ["X-Tab", "a\tb"]);
  throws(() => parseHeaderField("Accept text/html"), /Invalid header "Accept text\/html"/);
  throws(() => parseHeaderField("Bad Name: x"), /Invalid header/);
  throws(() => parseHeaderField(": x"), /Invalid header/);
  throws(() => parseHeaderField("X-Inject: a\r\nEvil: 1"), /printable ASCII/);
  throws(() => parseHeaderField("X-Utf: caf\u00e9"), /printable ASCII/);
});
