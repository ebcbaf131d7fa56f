// The one-line figures at the top of docs/benchmarks.md: what was measured, against what, and
// whether it meets the target. Each benchmark names its own; run.ts keeps them per
// benchmark in docs/benchmarks/headlines.json so that running one benchmark keeps the others'.

export type Headline = {
  figure: string;
  measured: string;
  /** The same-run baseline, or "–" where none exists. */
  baseline: string;
  target: string;
  /** null: reported, no target. */
  met: boolean | null;
};

/** GitHub's anchor for a heading. */
const slug = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replace(/ /g, "-");

export function headlineTable(byBench: Record<string, Headline[]>, sections: { name: string; title: string }[]): string {
  const rows = sections.flatMap(({ name, title }) =>
    (byBench[name] ?? []).map((h) => `| ${h.figure} | ${h.measured} | ${h.baseline} | ${h.target} | ${h.met === null ? "–" : h.met ? "met" : "**missed**"} | [${name}](#${slug(title)}) |`),
  );
  if (rows.length === 0) return "";
  return ["| figure | measured | same-run baseline | target | | section |", "| --- | --- | --- | --- | --- | --- |", ...rows].join("\n");
}

export const ratio = (x: number) => `${x.toFixed(2)}×`;
export const perSecond = (x: number) => `${Math.round(x).toLocaleString("en-US")}/s`;
