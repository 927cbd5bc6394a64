/**
 * The project's small SVG chart module, for experiment reports: a line chart (x numeric, one line
 * per series, ± sd error bars) and a grouped bar chart (one group per category, one bar per series,
 * ± sd error bars). Every chart has a title, axis labels (with units in the label text), a legend
 * and nice rounded ticks. The output is a standalone SVG document (no scripts, no external fonts or
 * styles) that renders the same in a browser, in an <img> and inlined in HTML.
 */

export interface ChartPoint {
  readonly x: number;
  readonly y: number;
  /** Standard deviation over seeds: an error bar y ± sd (omitted or 0: no bar). */
  readonly sd?: number;
}

export interface LineSeries {
  readonly name: string;
  readonly points: readonly ChartPoint[];
}

export interface LineChartSpec {
  readonly title: string;
  /** Axis labels, with units, e.g. "tower depth (hidden layers)", "holdout MAP@10". */
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** Tick labels at given x values (default: nice numeric ticks). */
  readonly xTicks?: ReadonlyArray<{ readonly value: number; readonly label: string }>;
  /** Include 0 in the y range (default false: the range fits the data with a margin). */
  readonly yFromZero?: boolean;
  readonly width?: number;
  readonly height?: number;
}

export interface BarValue {
  readonly value: number;
  readonly sd?: number;
}

export interface BarChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Legend entries: bar i of every group belongs to series[i]. */
  readonly series: readonly string[];
  /** One group per category; values[i] is series i's bar (null = not measured, drawn as "n/a"). */
  readonly groups: ReadonlyArray<{ readonly label: string; readonly values: ReadonlyArray<BarValue | null> }>;
  readonly width?: number;
  readonly height?: number;
}

/** Colour-blind-safe palette (Okabe-Ito), in series order. */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

const FONT = 'font-family="Helvetica, Arial, sans-serif"';

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** Rounds for coordinates (keeps the SVG small and diffs stable). */
function r(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

/** About `count` round tick values covering [lo, hi] (1, 2, 5 × 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0];
  if (hi <= lo) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  for (let t = first; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks[ticks.length - 1] < hi) ticks.push(Number((first + ticks.length * step).toPrecision(12)));
  return ticks;
}

/** A tick label: as few decimals as the step needs. */
function tickLabel(value: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : Math.abs(value) || 1;
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return value.toFixed(decimals);
}

interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

function frame(width: number, height: number, legendRows: number): Frame {
  return { width, height, left: 78, right: width - 24, top: 48, bottom: height - 62 - legendRows * 18 };
}

/** Title, axis lines, y ticks with grid lines and the axis labels. */
function axes(
  f: Frame,
  spec: { title: string; xLabel: string; yLabel: string },
  yTicks: readonly number[],
  yScale: (y: number) => number,
): string[] {
  const out: string[] = [];
  out.push(
    `<text class="title" x="${r(f.width / 2)}" y="24" text-anchor="middle" font-size="16" font-weight="bold" ${FONT}>${escapeXml(spec.title)}</text>`,
  );
  out.push(`<g class="y-axis">`);
  for (const t of yTicks) {
    const y = yScale(t);
    out.push(
      `<line class="grid" x1="${r(f.left)}" y1="${r(y)}" x2="${r(f.right)}" y2="${r(y)}" stroke="#e5e5e5"/>`,
      `<text class="tick" x="${r(f.left - 6)}" y="${r(y + 4)}" text-anchor="end" font-size="11" ${FONT}>${tickLabel(t, yTicks)}</text>`,
    );
  }
  out.push(
    `<line class="axis-line" x1="${r(f.left)}" y1="${r(f.top)}" x2="${r(f.left)}" y2="${r(f.bottom)}" stroke="#333"/>`,
    `<text class="axis-label" transform="translate(18 ${r((f.top + f.bottom) / 2)}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(spec.yLabel)}</text>`,
    `</g>`,
  );
  out.push(
    `<g class="x-axis">`,
    `<line class="axis-line" x1="${r(f.left)}" y1="${r(f.bottom)}" x2="${r(f.right)}" y2="${r(f.bottom)}" stroke="#333"/>`,
    `<text class="axis-label" x="${r((f.left + f.right) / 2)}" y="${r(f.bottom + 38)}" text-anchor="middle" font-size="12" ${FONT}>${escapeXml(spec.xLabel)}</text>`,
  );
  return out;
}

/** The legend under the x axis: a swatch and the series name, wrapped into rows. */
function legend(f: Frame, names: readonly string[], kind: "line" | "bar"): string[] {
  const out = [`<g class="legend">`];
  let x = f.left;
  let y = f.bottom + 58;
  names.forEach((name, i) => {
    const w = 28 + name.length * 6.6;
    if (x + w > f.right && x > f.left) {
      x = f.left;
      y += 18;
    }
    const c = seriesColor(i);
    out.push(`<g class="legend-item" data-series="${escapeXml(name)}">`);
    out.push(
      kind === "line"
        ? `<line x1="${r(x)}" y1="${r(y - 4)}" x2="${r(x + 18)}" y2="${r(y - 4)}" stroke="${c}" stroke-width="2.5"/>`
        : `<rect x="${r(x + 3)}" y="${r(y - 10)}" width="12" height="12" fill="${c}"/>`,
      `<text x="${r(x + 23)}" y="${r(y)}" font-size="11" ${FONT}>${escapeXml(name)}</text>`,
      `</g>`,
    );
    x += w + 12;
  });
  out.push(`</g>`);
  return out;
}

function legendRows(names: readonly string[], width: number): number {
  let rows = 1;
  let x = 78;
  for (const name of names) {
    const w = 28 + name.length * 6.6;
    if (x + w > width - 24 && x > 78) {
      rows++;
      x = 78;
    }
    x += w + 12;
  }
  return rows;
}

function open(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">` +
    `<rect width="${width}" height="${height}" fill="#fff"/>`
  );
}

/** An error bar: vertical line y0..y1 at x with caps. */
function errorBar(x: number, y0: number, y1: number, color: string): string {
  return (
    `<g class="error-bar"><line x1="${r(x)}" y1="${r(y0)}" x2="${r(x)}" y2="${r(y1)}" stroke="${color}"/>` +
    `<line x1="${r(x - 4)}" y1="${r(y0)}" x2="${r(x + 4)}" y2="${r(y0)}" stroke="${color}"/>` +
    `<line x1="${r(x - 4)}" y1="${r(y1)}" x2="${r(x + 4)}" y2="${r(y1)}" stroke="${color}"/></g>`
  );
}

function yRange(values: Array<{ lo: number; hi: number }>, fromZero: boolean): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v.lo)) lo = Math.min(lo, v.lo);
    if (Number.isFinite(v.hi)) hi = Math.max(hi, v.hi);
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (fromZero) lo = Math.min(0, lo);
  else {
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  return [lo, hi];
}

/** A line chart with one line per series, markers and ± sd error bars. */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 640;
  // A series with no finished point stays in the legend, marked, so a partial chart says what is missing.
  const names = spec.series.map((s) => (s.points.length === 0 ? `${s.name} (no data yet)` : s.name));
  const height = spec.height ?? 400;
  const f = frame(width, height, legendRows(names, width));
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const tickValues = spec.xTicks?.map((t) => t.value) ?? niceTicks(Math.min(...xs), Math.max(...xs));
  const allX = [...xs, ...tickValues];
  let x0 = Math.min(...allX);
  let x1 = Math.max(...allX);
  if (!(x1 > x0)) {
    x0 -= 1;
    x1 += 1;
  }
  const [y0, y1] = yRange(
    spec.series.flatMap((s) => s.points.map((p) => ({ lo: p.y - (p.sd ?? 0), hi: p.y + (p.sd ?? 0) }))),
    spec.yFromZero ?? false,
  );
  const yTicks = niceTicks(y0, y1);
  const yLo = Math.min(y0, yTicks[0]);
  const yHi = Math.max(y1, yTicks[yTicks.length - 1]);
  const pad = 16;
  const xScale = (x: number) => f.left + pad + ((x - x0) / (x1 - x0)) * (f.right - f.left - 2 * pad);
  const yScale = (y: number) => f.bottom - ((y - yLo) / (yHi - yLo)) * (f.bottom - f.top);
  const out = [
    open(width, height, spec.title),
    ...axes(
      f,
      spec,
      yTicks.filter((t) => t >= yLo && t <= yHi),
      yScale,
    ),
  ];
  const xTicks = spec.xTicks ?? tickValues.map((v) => ({ value: v, label: tickLabel(v, tickValues) }));
  for (const t of xTicks) {
    const x = xScale(t.value);
    out.push(
      `<line class="tick-mark" x1="${r(x)}" y1="${r(f.bottom)}" x2="${r(x)}" y2="${r(f.bottom + 5)}" stroke="#333"/>`,
      `<text class="tick" x="${r(x)}" y="${r(f.bottom + 18)}" text-anchor="middle" font-size="11" ${FONT}>${escapeXml(t.label)}</text>`,
    );
  }
  out.push(`</g>`);
  spec.series.forEach((s, i) => {
    const c = seriesColor(i);
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    out.push(`<g class="series" data-series="${escapeXml(s.name)}">`);
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${c}" stroke-width="2.5" points="${pts.map((p) => `${r(xScale(p.x))},${r(yScale(p.y))}`).join(" ")}"/>`,
      );
    for (const p of pts) {
      if (p.sd !== undefined && p.sd > 0)
        out.push(errorBar(xScale(p.x), yScale(p.y - p.sd), yScale(p.y + p.sd), c));
      out.push(
        `<circle class="point" cx="${r(xScale(p.x))}" cy="${r(yScale(p.y))}" r="3.5" fill="${c}"><title>${escapeXml(
          `${s.name}: x ${p.x}, y ${p.y.toPrecision(4)}${p.sd !== undefined ? ` ± ${p.sd.toPrecision(2)}` : ""}`,
        )}</title></circle>`,
      );
    }
    out.push(`</g>`);
  });
  out.push(...legend(f, names, "line"), `</svg>`);
  return out.join("\n");
}

/** A grouped bar chart: one group per category, one bar per series, ± sd error bars, y from 0. */
export function barChart(spec: BarChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 400;
  const f = frame(width, height, legendRows(spec.series, width));
  const [y0, y1] = yRange(
    spec.groups.flatMap((g) =>
      g.values.flatMap((v) => (v === null ? [] : [{ lo: v.value - (v.sd ?? 0), hi: v.value + (v.sd ?? 0) }])),
    ),
    true,
  );
  const yTicks = niceTicks(y0, y1);
  const yLo = Math.min(y0, yTicks[0]);
  const yHi = Math.max(y1, yTicks[yTicks.length - 1]);
  const yScale = (y: number) => f.bottom - ((y - yLo) / (yHi - yLo)) * (f.bottom - f.top);
  const out = [open(width, height, spec.title), ...axes(f, spec, yTicks, yScale)];
  const groupWidth = (f.right - f.left) / Math.max(1, spec.groups.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, spec.series.length);
  spec.groups.forEach((g, gi) => {
    const cx = f.left + groupWidth * (gi + 0.5);
    out.push(
      `<text class="tick" x="${r(cx)}" y="${r(f.bottom + 18)}" text-anchor="middle" font-size="11" ${FONT}>${escapeXml(g.label)}</text>`,
    );
  });
  out.push(`</g>`);
  spec.series.forEach((name, si) => {
    const c = seriesColor(si);
    out.push(`<g class="series" data-series="${escapeXml(name)}">`);
    spec.groups.forEach((g, gi) => {
      const x = f.left + groupWidth * gi + groupWidth * 0.1 + barWidth * si;
      const v = g.values[si];
      if (v === null || v === undefined) {
        out.push(
          `<text class="missing" x="${r(x + barWidth / 2)}" y="${r(f.bottom - 4)}" text-anchor="middle" font-size="9" ${FONT}>n/a</text>`,
        );
        return;
      }
      const top = yScale(Math.max(0, v.value));
      const base = yScale(Math.min(0, v.value));
      out.push(
        `<rect class="bar" x="${r(x + 1)}" y="${r(top)}" width="${r(Math.max(1, barWidth - 2))}" height="${r(base - top)}" fill="${c}"><title>${escapeXml(
          `${name}, ${g.label}: ${v.value.toPrecision(4)}${v.sd !== undefined ? ` ± ${v.sd.toPrecision(2)}` : ""}`,
        )}</title></rect>`,
      );
      if (v.sd !== undefined && v.sd > 0)
        out.push(errorBar(x + barWidth / 2, yScale(v.value - v.sd), yScale(v.value + v.sd), "#222"));
    });
    out.push(`</g>`);
  });
  out.push(...legend(f, spec.series, "bar"), `</svg>`);
  return out.join("\n");
}
