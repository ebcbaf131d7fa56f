// SVG charts for docs/benchmarks.md, drawn by Observable Plot on a jsdom document (Plot needs a
// DOM to build into; the benchmarks run outside a browser).
import * as Plot from "@observablehq/plot";
import { JSDOM } from "jsdom";

/** One bar: `group` is the row it sits in (a frame, a run, a rate), `series` what it measures. */
export type Bar = { group: string; series: string; value: number };

const STYLE = { background: "white", color: "#222", fontSize: "12px", fontFamily: "system-ui, sans-serif" };

function standalone(svg: SVGSVGElement | HTMLElement): string {
  svg.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  return `${svg.outerHTML}\n`;
}

/** Horizontal bars, one row per (group, series), coloured by series and labelled with the value. */
export function barChart(bars: Bar[], axis: string, format: (n: number) => string = (n) => n.toLocaleString("en-US")): string {
  const { document } = new JSDOM("").window;
  const rows = bars.map((b) => ({ ...b, row: b.group === b.series ? b.group : `${b.group} · ${b.series}` }));
  const longest = Math.max(...rows.map((r) => r.row.length));
  return standalone(
    Plot.plot({
      document,
      style: STYLE,
      width: 800,
      height: 30 + rows.length * 22,
      marginLeft: Math.min(420, 16 + longest * 7.2),
      marginRight: 70,
      x: { label: axis, grid: true },
      y: { label: null, domain: rows.map((r) => r.row) },
      color: { scheme: "tableau10", domain: [...new Set(rows.map((r) => r.series))] },
      marks: [
        Plot.barX(rows, { x: "value", y: "row", fill: "series" }),
        Plot.text(rows, { x: "value", y: "row", text: (r: Bar) => format(r.value), textAnchor: "start", dx: 4 }),
        Plot.ruleX([0]),
      ],
    }),
  );
}

/** A from × to grid of cells coloured by value and labelled with it (the region matrix). */
export function matrixChart(cells: { from: string; to: string; value: number; label: string }[], legend: string): string {
  const { document } = new JSDOM("").window;
  return standalone(
    Plot.plot({
      document,
      style: STYLE,
      width: 420,
      marginLeft: 90,
      padding: 0.05,
      x: { label: "device's region →", axis: "top" },
      y: { label: "sent at the edge of ↓" },
      color: { scheme: "oranges", label: legend },
      marks: [Plot.cell(cells, { x: "to", y: "from", fill: "value", inset: 1 }), Plot.text(cells, { x: "to", y: "from", text: "label", fill: "black" })],
    }),
  );
}
