import { deepEqual, equal, ok } from "node:assert/strict";
import { describeThresholds } from "../../lib/check/overall.ts";
import { renderHtmlReport } from "../../lib/check/report_html.ts";
import { formatTextReport } from "../../lib/check/report_text.ts";
import type { CheckReport } from "../../lib/check/types.ts";
import { DEFAULT_THRESHOLDS } from "../../lib/check/verdict.ts";
import { fabricatedReport, MiB } from "./report_data.ts";

const verdictLine = (text: string) => text.split("\n").find((l) => l.startsWith("Verdict: "));
/** The report as a `--json` reader sees it. */
const asJson = (r: CheckReport) => JSON.parse(JSON.stringify(r));

Deno.test("check/overall: a PASS whose memory checks had too few samples says not measured, in text, HTML and JSON", () => {
  // 5 iterations, 2 of warm-up: 3 samples, enough for the CV (3), not for the memory trend (5).
  const report = fabricatedReport({ sizes: [1024, MiB], iterations: 5, warmup: 2 });
  const expected = "PASS (20 transfers, every copy identical, no measured threshold crossed; " +
    "memory not measured: 3 samples after warm-up, need 5)";

  const text = formatTextReport(report);
  equal(verdictLine(text), `Verdict: ${expected}`);
  ok(!text.includes("no threshold crossed"), text);
  equal(text.match(/pass \(not measured: memory\)/g)?.length, 4, text);

  const json = asJson(report);
  equal(json.format, 2);
  equal(json.passed, true);
  deepEqual(json.verdict.status, "pass");
  equal(json.verdict.text, expected);
  equal(json.verdict.notMeasured.length, 8, "client and server memory of 2 files x 2 directions");
  deepEqual(json.verdict.notMeasured[0], {
    file: "1024.bin",
    direction: "put",
    check: "clientLeak",
    reason: "3 samples after warm-up, need 5",
  });
  for (const s of json.summaries) {
    deepEqual([s.verdicts.clientLeak.status, s.verdicts.serverLeak.status], [
      "not measured",
      "not measured",
    ]);
  }
  equal(json.summaries[3].verdicts.uniformity.status, "pass", "the CV of the 1 MiB file ran");

  const html = renderHtmlReport(report);
  ok(html.includes(`<p class="verdict partial">${expected}</p>`), html);
  equal(html.match(/<td class="v">.*?<\/td>/g)?.join("").match(/class="nm"/g)?.length, 8);
  ok(html.includes('title="not measured: 3 samples after warm-up, need 5">client mem<'));
});

Deno.test("check/overall: a fully measured PASS says no threshold crossed and lists nothing unmeasured", () => {
  const report = fabricatedReport({ sizes: [1024, MiB], iterations: 8, warmup: 2 });
  const text = formatTextReport(report);
  equal(
    verdictLine(text),
    "Verdict: PASS (32 transfers, every copy identical, no threshold crossed)",
  );
  ok(!text.includes("not measured"), text);
  deepEqual(asJson(report).verdict.notMeasured, []);
  ok(renderHtmlReport(report).includes('<p class="verdict">PASS (32 transfers'));
});

Deno.test("check/overall: what was measured on some files only is named file by file", () => {
  // 2 samples after warm-up: the CV of the files of 1 MiB or more is not measured; the 1 KiB file is exempt.
  const report = fabricatedReport({ sizes: [1024, MiB, 4 * MiB], iterations: 4, warmup: 2 });
  equal(
    report.verdict.text,
    "PASS (24 transfers, every copy identical, no measured threshold crossed; " +
      "memory not measured: 2 samples after warm-up, need 5; " +
      'uniformity not measured for "1048576.bin", "4194304.bin": 2 samples after warm-up, need 3)',
  );
  equal(report.summaries[0]!.verdicts.uniformity.status, "n/a", "exempt, not unmeasured");
});

Deno.test("check/overall: a server that cannot be sampled leaves its memory not measured", () => {
  const report = fabricatedReport({ sizes: [MiB], iterations: 8, serverMeasured: false });
  equal(report.passed, true);
  equal(
    report.verdict.text,
    "PASS (16 transfers, every copy identical, no measured threshold crossed; server memory " +
      "not measured: the server's process cannot be sampled (a remote or in-process server))",
  );
  ok(formatTextReport(report).includes("pass (not measured: server memory)"));
});

Deno.test("check/overall: a FAIL also says what was not measured", () => {
  const report = fabricatedReport({
    sizes: [MiB],
    iterations: 3,
    outcomes: ["ok", "mismatch", "ok"],
  });
  equal(report.verdict.status, "fail");
  equal(
    verdictLine(formatTextReport(report)),
    "Verdict: FAIL (2 mismatch(es) or error(s), 0 threshold(s) crossed; uniformity not " +
      "measured: 1 sample after warm-up, need 3; memory not measured: 1 sample after warm-up, need 5)",
  );
});

Deno.test("check/overall: the thresholds line says files under 1 MiB are exempt from the CV limit, as the verdict applies it", () => {
  const sentence = "CV of MB/s at most 50%, over at least 3 samples after warm-up; files under " +
    "1.0 MiB (1,048,576 bytes) are exempt";
  ok(describeThresholds(DEFAULT_THRESHOLDS).startsWith(sentence));
  // The rule as summarizeDirection applies it: 1 byte under 1 MiB is exempt, 1 MiB is held to it.
  const scattered = [100, 20, 300, 15, 250, 40, 400];
  const report = fabricatedReport({
    sizes: [MiB - 1, MiB],
    iterations: scattered.length,
    speed: (i) => scattered[i]!,
  });
  deepEqual(report.summaries.map((s) => s.verdicts.uniformity.status), [
    "n/a",
    "n/a",
    "fail",
    "fail",
  ]);
  equal(
    report.summaries[0]!.verdicts.uniformity.detail,
    "files under 1.0 MiB measure round trips",
  );
  ok(formatTextReport(report).includes(`\nThresholds: ${sentence}`));
  ok(renderHtmlReport(report).includes(`<dt>Thresholds</dt><dd>${sentence}`));
  // A custom size limit is told as it is.
  ok(
    describeThresholds({ ...DEFAULT_THRESHOLDS, minMbpsFileSize: 4096, maxCv: 0.25 })
      .startsWith(
        "CV of MB/s at most 25%, over at least 3 samples after warm-up; files under " +
          "4.0 KiB (4,096 bytes) are exempt",
      ),
  );
});

Deno.test("check/overall: the report says what one request costs, as probed apart, in text, HTML and JSON", () => {
  const probe = {
    file: "1024.bin",
    requests: 100,
    medianMs: 0.5,
    p99Ms: 1.25,
    perSecond: 2000,
    window: 32,
    pipelinedPerSecond: 9000,
  };
  const report = {
    ...fabricatedReport({ sizes: [1024], iterations: 4, warmup: 1 }),
    requests: [probe],
  };
  const line =
    'Per request: 100 GETs of "1024.bin" one after another, median 0.50 ms, p99 1.25 ms ' +
    "(2,000/s); 32 in flight: 9,000/s.";
  const text = formatTextReport(report);
  ok(text.includes(`\n${line}\n`), text);
  ok(/^1024\.bin .* \d+\.\d\d +pass/m.test(text), "the ms/req column");
  ok(renderHtmlReport(report).includes(`<p>${line.replaceAll('"', "&quot;")}</p>`));
  deepEqual(asJson(report).requests, [probe]);
  // Nothing probed, nothing said.
  ok(!formatTextReport(fabricatedReport()).includes("Per request"));
});
