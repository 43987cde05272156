import { throws } from "node:assert/strict";
import { remoteTarget } from "../../lib/check/target.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("check: a bftps:// target is refused, never checked in the clear", () => {
  throws(() => remoteTarget("bftps://127.0.0.1:2121/tmp"), UsageError);
});
