import { equal } from "node:assert/strict";
import {
  localAdmission,
  releaseWorker,
  sharedAdmission,
  sharedAdmissionBytes,
  sharedSessions,
} from "../../lib/server/admission.ts";

Deno.test("server: localAdmission counts overall and per address", () => {
  const a = localAdmission({ maxConnections: 5, maxPerClient: 2 });
  equal(a.tryAcquire("10.0.0.1"), "ok");
  equal(a.tryAcquire("10.0.0.1"), "ok");
  equal(a.tryAcquire("10.0.0.1"), "client-full");
  equal(a.tryAcquire("10.0.0.2"), "ok");
  equal(a.tryAcquire("::1"), "ok");
  equal(a.tryAcquire("::2"), "ok");
  equal(a.tryAcquire("::3"), "full");
  a.release("10.0.0.1");
  equal(a.tryAcquire("10.0.0.1"), "ok");
  // 0 means no per-address limit.
  const open = localAdmission({ maxConnections: 100, maxPerClient: 0 });
  for (let i = 0; i < 100; i++) equal(open.tryAcquire("h"), "ok");
  equal(open.tryAcquire("h"), "full");
});

Deno.test("server: sharedAdmission holds both limits over all workers, and a dead worker's places return", () => {
  const buf = new SharedArrayBuffer(sharedAdmissionBytes(3));
  const limits = { maxConnections: 6, maxPerClient: 2 };
  const w = [0, 1, 2].map((i) => sharedAdmission(buf, 3, i, limits));
  equal(w[0]!.tryAcquire("a"), "ok");
  equal(w[1]!.tryAcquire("a"), "ok");
  equal(w[2]!.tryAcquire("a"), "client-full");
  equal(w[2]!.tryAcquire("b"), "ok");
  equal(w[2]!.tryAcquire("c"), "ok");
  equal(w[1]!.tryAcquire("d"), "ok");
  equal(w[0]!.tryAcquire("e"), "ok");
  equal(sharedSessions(buf), 6);
  equal(w[0]!.tryAcquire("f"), "full");
  // Worker 1 dies holding "a" and "d": both places come back, the others stay counted.
  releaseWorker(buf, 3, 1);
  equal(sharedSessions(buf), 4);
  equal(w[2]!.tryAcquire("a"), "ok");
  equal(w[2]!.tryAcquire("a"), "client-full");
  w[0]!.release("a");
  w[2]!.release("a");
  equal(sharedSessions(buf), 3);
});
