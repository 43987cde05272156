import { equal, ok } from "node:assert/strict";
import { lineChart } from "../../lib/check/line_chart.ts";

const series = [
  { name: "PUT", color: "#e15759", values: [1, 2, 3] },
  { name: "GET", color: "#4e79a7", values: [2, 3, 4] },
];
const legendY = (svg: string) =>
  /<line x1="[\d.]+" x2="[\d.]+" y1="(\d+)" y2="\1" stroke="#e15759"/.exec(svg)?.[1];
const titleText = (svg: string) => /<text x="64" y="16"[^>]*>([^<]*)<\/text>/.exec(svg)?.[1];

Deno.test("check/line_chart: the legend sits beside a short title", () => {
  const svg = lineChart({
    title: "1KiB.bin: speed per iteration",
    yLabel: "MB/s",
    xLabel: "i",
    series,
    width: 600,
  });
  equal(legendY(svg), "12");
  equal(titleText(svg), "1KiB.bin: speed per iteration");
});

Deno.test("check/line_chart: a title that would run into the legend puts it on a second line", () => {
  const title = "a-rather-long-backup-name-2026-12-04-full.tar.zst: speed per iteration";
  const svg = lineChart({ title, yLabel: "MB/s", xLabel: "i", series, width: 600 });
  equal(legendY(svg), "28");
  equal(titleText(svg), title, "it still fits the chart's width");
});

Deno.test("check/line_chart: a title wider than the chart is cut with an ellipsis, whole in its tooltip", () => {
  const title = `${"x".repeat(120)}.bin: speed per iteration`;
  const svg = lineChart({ title, yLabel: "MB/s", xLabel: "i", series, width: 600 });
  const shown = titleText(svg)!;
  ok(shown.endsWith("\u2026") && shown.length * 7.4 <= 600 - 64 - 16, shown);
  ok(svg.includes(`<title>${title}</title>`));
});
