/**
 * The report charts (src/charts/svg-chart.ts) parse as well-formed XML and carry what a reader
 * needs: the title, both axis labels, one series group per series with its points, ± sd error
 * bars exactly where an sd was given, a legend entry per series, and escaped text.
 */
import { describe, expect, it } from "vitest";
import { barChart, lineChart, niceTicks } from "../src/charts/svg-chart.js";
import { allElements, byClass, parseXml, textOf } from "./support/xml.js";

describe("line chart", () => {
  const svg = lineChart({
    title: "MAP by depth <test> & more",
    xLabel: "tower depth (layers)",
    yLabel: "holdout MAP@10 (fraction)",
    xTicks: [0, 1, 2].map((d) => ({ value: d, label: `depth ${d}` })),
    series: [
      {
        name: "watches only",
        points: [
          { x: 0, y: 0.1, sd: 0.01 },
          { x: 1, y: 0.12, sd: 0.02 },
          { x: 2, y: 0.11 },
        ],
      },
      {
        name: "all features",
        points: [
          { x: 0, y: 0.15, sd: 0.005 },
          { x: 2, y: 0.2, sd: 0.01 },
        ],
      },
    ],
  });
  const root = parseXml(svg);

  it("is an SVG document with a title and labelled axes", () => {
    expect(root.name).toBe("svg");
    expect(root.attrs.xmlns).toBe("http://www.w3.org/2000/svg");
    expect(textOf(byClass(root, "title")[0])).toBe("MAP by depth <test> & more");
    const labels = byClass(root, "axis-label").map(textOf);
    expect(labels).toEqual(["holdout MAP@10 (fraction)", "tower depth (layers)"]);
    expect(byClass(root, "x-axis")[0]).toBeDefined();
    expect(byClass(root, "y-axis")[0]).toBeDefined();
    const xTicks = byClass(byClass(root, "x-axis")[0], "tick").map(textOf);
    expect(xTicks).toEqual(["depth 0", "depth 1", "depth 2"]);
    // y ticks are numbers covering the data range (0.095 .. 0.21).
    const yTicks = byClass(byClass(root, "y-axis")[0], "tick").map((t) => Number(textOf(t)));
    expect(yTicks.every(Number.isFinite)).toBe(true);
    expect(Math.min(...yTicks)).toBeLessThanOrEqual(0.1);
    expect(Math.max(...yTicks)).toBeGreaterThanOrEqual(0.2);
  });

  it("draws each series with its points, a line, and error bars only where an sd is given", () => {
    const series = byClass(root, "series");
    expect(series.map((s) => s.attrs["data-series"])).toEqual(["watches only", "all features"]);
    expect(byClass(series[0], "point")).toHaveLength(3);
    expect(byClass(series[1], "point")).toHaveLength(2);
    expect(byClass(series[0], "error-bar")).toHaveLength(2);
    expect(byClass(series[1], "error-bar")).toHaveLength(2);
    for (const s of series) expect(allElements(s).filter((e) => e.name === "polyline")).toHaveLength(1);
    // The line goes up from depth 0 to 1 for "watches only": smaller SVG y is higher.
    const pts = allElements(series[0])
      .find((e) => e.name === "polyline")!
      .attrs.points.split(" ");
    const ys = pts.map((p) => Number(p.split(",")[1]));
    expect(ys[1]).toBeLessThan(ys[0]);
    // An error bar spans y ± sd: its length matches 2 sd on the y scale (sd 0.02 is twice sd 0.01).
    const len = (bar: ReturnType<typeof byClass>[number]) => {
      const line = allElements(bar).find((e) => e.name === "line")!;
      return Math.abs(Number(line.attrs.y2) - Number(line.attrs.y1));
    };
    const [b0, b1] = byClass(series[0], "error-bar");
    expect(len(b1) / len(b0)).toBeCloseTo(2, 1);
  });

  it("has a legend entry per series, in series colours", () => {
    const items = byClass(root, "legend-item");
    expect(items.map((i) => textOf(i).trim())).toEqual(["watches only", "all features"]);
    const stroke = (e: (typeof items)[number]) => allElements(e).find((x) => x.name === "line")!.attrs.stroke;
    const seriesStroke = byClass(root, "series").map(
      (s) => allElements(s).find((e) => e.name === "polyline")!.attrs.stroke,
    );
    expect(items.map(stroke)).toEqual(seriesStroke);
  });
});

it("a line series without points stays in the legend, marked as having no data", () => {
  const root = parseXml(
    lineChart({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      series: [
        { name: "done", points: [{ x: 0, y: 1 }] },
        { name: "missing", points: [] },
      ],
    }),
  );
  expect(byClass(root, "legend-item").map((i) => textOf(i).trim())).toEqual([
    "done",
    "missing (no data yet)",
  ]);
  expect(byClass(byClass(root, "series")[1], "point")).toHaveLength(0);
});

describe("bar chart", () => {
  const svg = barChart({
    title: "Test metrics",
    xLabel: "metric",
    yLabel: "value (fraction)",
    series: ["rollback", "held-out"],
    groups: [
      {
        label: "HR@10",
        values: [
          { value: 0.2, sd: 0.01 },
          { value: 0.15, sd: 0.02 },
        ],
      },
      { label: "MAP@10", values: [{ value: 0.05 }, null] },
    ],
  });
  const root = parseXml(svg);

  it("draws a bar per measured value, n/a for a missing one, error bars where an sd is given", () => {
    const series = byClass(root, "series");
    expect(series.map((s) => s.attrs["data-series"])).toEqual(["rollback", "held-out"]);
    expect(byClass(series[0], "bar")).toHaveLength(2);
    expect(byClass(series[1], "bar")).toHaveLength(1);
    expect(byClass(series[1], "missing").map(textOf)).toEqual(["n/a"]);
    expect(byClass(root, "error-bar")).toHaveLength(2);
    // Heights are proportional to the values (0.2 vs 0.15), from a zero baseline.
    const h = (s: number, g: number) => Number(byClass(series[s], "bar")[g].attrs.height);
    expect(h(0, 0) / h(1, 0)).toBeCloseTo(0.2 / 0.15, 1);
    expect(h(0, 0) / h(0, 1)).toBeCloseTo(0.2 / 0.05, 1);
    expect(byClass(byClass(root, "x-axis")[0], "tick").map(textOf)).toEqual(["HR@10", "MAP@10"]);
    expect(byClass(root, "legend-item").map((i) => textOf(i).trim())).toEqual(["rollback", "held-out"]);
    expect(byClass(root, "axis-label").map(textOf)).toEqual(["value (fraction)", "metric"]);
  });
});

describe("xml parser (test support)", () => {
  it("rejects malformed documents", () => {
    expect(() => parseXml("<svg><g></svg>")).toThrow(/closes/);
    expect(() => parseXml("<svg>a & b</svg>")).toThrow(/bare &/);
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow(/duplicate/);
    expect(() => parseXml("<svg>")).toThrow(/not closed/);
  });
});

it("niceTicks covers the range with round steps", () => {
  expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  const t = niceTicks(0.093, 0.211);
  expect(t[0]).toBeLessThanOrEqual(0.093);
  expect(t[t.length - 1]).toBeGreaterThanOrEqual(0.211);
});
