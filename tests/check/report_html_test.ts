import { deepEqual, equal, ok } from "node:assert/strict";
import { renderHtmlReport } from "../../lib/check/report_html.ts";
import { fabricatedReport, MiB } from "./report_data.ts";

/** The window width the report is laid out for. */
const WINDOW = 1280;
/** The body's font size, to turn `em` into pixels (an upper bound: table cells are 12-14 px). */
const FONT_PX = 14;

/** The page's CSS as selector -> property -> value (rules later in the sheet win). */
function cssOf(html: string): Map<string, Map<string, string>> {
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
  const rules = new Map<string, Map<string, string>>();
  for (const [, selectors, body] of style.matchAll(/([^{}]+)\{([^}]*)\}/g)) {
    for (const selector of selectors!.split(",").map((s) => s.trim())) {
      const props = rules.get(selector) ?? new Map<string, string>();
      for (const decl of body!.split(";")) {
        const [name, ...value] = decl.split(":");
        if (name!.trim()) props.set(name!.trim(), value.join(":").trim());
      }
      rules.set(selector, props);
    }
  }
  return rules;
}

function px(value: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(px|em)$/.exec(value?.split(/\s+/)[0] ?? "");
  if (!m) throw new Error(`Not a length: "${value}"`);
  return Number(m[1]) * (m[2] === "em" ? FONT_PX : 1);
}

function luminance(hex: string): number {
  const full = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, (c) => c + c) : hex;
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(full.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const report = fabricatedReport({ sizes: [1024, MiB, 64 * MiB], iterations: 5 });
const html = renderHtmlReport(report);
const css = cssOf(html);
const body = css.get("body")!;
/** The content width at a 1280 px window: the body's max-width, within its padding. */
const content = Math.min(
  px(body.get("max-width")),
  WINDOW - 2 * px(body.get("padding")?.split(" ")[1]),
);

Deno.test("check/report_html: the page's content fits a 1280 px window", () => {
  ok(px(body.get("max-width")) + 2 * px(body.get("padding")?.split(" ")[1]) <= WINDOW);
  ok(content >= 1200, String(content));
});

Deno.test("check/report_html: the chip colours have a legend naming each state", () => {
  const legend = /<p class="legend">([\s\S]*?)<\/p>/.exec(html)?.[1];
  ok(legend, "a legend under the summary table");
  const chips = [...legend.matchAll(/<span class="(\w+)"[^>]*>([^<]+)<\/span>([^<]*)/g)]
    .map(([, cls, label, meaning]) => [cls, label, meaning!.trim().length > 10]);
  deepEqual(chips, [
    ["pass", "pass", true],
    ["fail", "fail", true],
    ["nm", "not measured", true],
    ["na", "n/a", true],
  ]);
  // Every colour the table uses is one the legend explains.
  const used = new Set(
    [...html.matchAll(/<td class="v">(.*?)<\/td>/g)].flatMap(([, cell]) =>
      [...cell!.matchAll(/class="(\w+)"/g)].map(([, c]) => c!)
    ),
  );
  deepEqual([...used].sort(), ["na", "nm", "pass"], "this report has these three");
  for (const c of used) ok(chips.some(([cls]) => cls === c), c);
});

Deno.test("check/report_html: the badge and every chip are readable (contrast 4.5:1 or more)", () => {
  ok(html.includes('<h1>bftp check <span class="badge pass">PASS</span></h1>'));
  for (const cls of ["pass", "fail", "nm", "na"]) {
    const rule = css.get(`.${cls}`)!;
    const ratio = contrast(rule.get("color")!, rule.get("background")!);
    ok(ratio >= 4.5, `.${cls}: ${ratio.toFixed(2)}:1`);
  }
});

Deno.test("check/report_html: the summary table has no fixed width over 1280 px and wraps its chips", () => {
  ok(!/<(table|th|td)\b[^>]*\swidth=/.test(html), "no width attribute on the table");
  let minimum = 0;
  for (const [selector, props] of css) {
    if (!/\b(table|th|td)\b/.test(selector)) continue;
    for (const [name, value] of props) {
      if (!/(^|-)width$/.test(name) || value.endsWith("%")) continue;
      ok(px(value) <= WINDOW, `${selector} { ${name}: ${value} }`);
      if (name === "min-width") minimum += px(value);
    }
  }
  ok(minimum < content / 2, `the cells' minimum widths add up to ${minimum} px`);
  equal(css.get("td.v")?.get("white-space"), "normal", "verdict chips wrap");
  ok(html.includes('<h2>Summary</h2><div class="wide"><table>'), "scrolls, not clips, if narrower");
  equal(css.get(".wide")?.get("overflow-x"), "auto");
});

Deno.test("check/report_html: two speed charts fit side by side, and the memory chart fits", () => {
  const section = (title: string) =>
    new RegExp(`<h2>${title}</h2><div class="charts">([\\s\\S]*?)</div>`).exec(html)?.[1] ?? "";
  const widths = (markup: string) =>
    [...markup.matchAll(/<svg[^>]*\swidth="(\d+)"/g)].map(([, w]) => Number(w));
  const charts = css.get(".charts")!;
  deepEqual([charts.get("display"), charts.get("flex-wrap")], ["flex", "wrap"]);
  const gap = px(charts.get("gap"));
  const border = px(css.get(".charts svg")?.get("border"));
  const speed = widths(section("Speed per iteration"));
  equal(speed.length, 3, "one per file");
  const pair = 2 * (Math.max(...speed) + 2 * border) + gap;
  ok(pair <= content, `two speed charts take ${pair} px of ${content}`);
  const memory = widths(section("Memory"));
  equal(memory.length, 1);
  ok(memory[0]! + 2 * border <= content, `the memory chart takes ${memory[0]} px of ${content}`);
  ok(memory[0]! + 2 * border >= pair - 4, "as wide as the two speed charts");
  equal(css.get(".charts svg")?.get("max-width"), "100%", "and they shrink in a narrower window");
});
