import { deepEqual, throws } from "node:assert/strict";
import { parseStrictJson, StrictJsonError } from "../../lib/protocol/strict_json.ts";

Deno.test("strict json: accepts what JSON.parse accepts when it is strict, with the same value", () => {
  const cases = [
    '{"op":"PWD"}',
    '{"a":{"a":1},"b":[{"a":1},{"a":2}]}', // one key per object: the same key in two objects
    '{"a\\"b":1,"a\\\\b":2,"ab":3}', // escapes that make different keys
    '{"s":"\\ud83d\\ude00 \\u00e9 \\n\\t\\/ \\"{[,:]}\\""}', // a pair, braces inside a string
    '{"":1," ":2}',
    "[1,[2,[3]]]",
    '"\u{1F600}"',
    '  { "x" : [ ] , "y" : { } }  ',
  ];
  for (const text of cases) deepEqual(parseStrictJson(text), JSON.parse(text), text);
});

Deno.test("strict json: refuses a BOM, a repeated key, __proto__ and a lone surrogate", () => {
  const cases: [string, RegExp][] = [
    ['\ufeff{"op":"PWD"}', /byte order mark/],
    ['{"op":"GET","op":"PUT"}', /the key "op" twice/],
    ['{"op":"GET","\\u006fp":"PUT"}', /the key "op" twice/], // the same key, spelt with an escape
    ['{"a":{"x":1,"y":2,"x":3}}', /the key "x" twice/],
    ['[{"k":1,"k":1}]', /the key "k" twice/],
    ['{"__proto__":{"admin":true}}', /"__proto__"/],
    ['{"a":{"__proto__":null}}', /"__proto__"/],
    ['{"p":"\\ud800"}', /lone surrogate \(U\+D800\)/],
    ['{"p":"a\\udfffb"}', /lone surrogate \(U\+DFFF\)/],
    ['{"p":"\\ud800\\u0041"}', /lone surrogate/], // a high one followed by no low one
    ['{"p":"\\udc00\\ud800"}', /lone surrogate/], // a pair in the wrong order
    ['{"\\ud800":1}', /lone surrogate/], // in a key
    ['{"p":"\ud800"}', /lone surrogate/], // raw, for a caller that did not decode UTF-8
  ];
  for (const [text, message] of cases) {
    throws(
      () => parseStrictJson(text),
      (e) => e instanceof StrictJsonError && message.test(e.message),
      text,
    );
  }
});

Deno.test("strict json: maxDepth counts objects and arrays, and bounds a deep text at once", () => {
  deepEqual(parseStrictJson('{"a":[1]}', { maxDepth: 2 }), { a: [1] });
  throws(() => parseStrictJson('{"a":[[1]]}', { maxDepth: 2 }), /nested deeper than 2 levels/);
  throws(() => parseStrictJson('{"a":{"b":{}}}', { maxDepth: 2 }), /nested deeper than 2 levels/);
  // 64 KiB of brackets: refused by the depth check, not by a stack overflow.
  const deep = "[".repeat(32768) + "]".repeat(32768);
  throws(() => parseStrictJson(deep, { maxDepth: 2 }), StrictJsonError);
  throws(() => parseStrictJson(deep), /nested deeper than 64 levels/);
});

Deno.test("strict json: text that is not JSON is a SyntaxError, as from JSON.parse", () => {
  for (const text of ["", "{", '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}']) {
    throws(
      () => parseStrictJson(text),
      (e) => e instanceof SyntaxError && !(e instanceof StrictJsonError),
      text,
    );
  }
});
