// Bar charts per day as SVG, built with DOM calls (no library, nothing parsed from data).
// A chart is a figure: its title, the drawing (role="img", named by a summary of its numbers), a
// legend when bars are stacked, and every number in a table inside <details>, for screen readers
// and the keyboard. Colours and text sizes are classes of console.css: the CSP allows no inline style.

import { addDecimal, h, table } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";  // a namespace name, not an address: nothing is fetched
const WIDTH = 480, HEIGHT = 200, LEFT = 44, RIGHT = 6, TOP = 10, BOTTOM = 24;
export const SERIES_CLASSES = 6;  // .s0 … .s5 in console.css

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

// Every day from `since` to `until` (ISO dates, both included), oldest first.
export function dayRange(since, until) {
  const days = [];
  for (let d = new Date(`${since}T00:00:00Z`); d <= new Date(`${until}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

// A round step for about `ticks` grid lines up to `max` (1, 2, 2.5 or 5 times a power of ten).
function niceStep(max, ticks = 4) {
  if (!(max > 0)) return 1;
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((step) => step >= raw);
}

const tickText = (value, step) => (Number.isInteger(step) ? String(value) : value.toFixed(step < 0.1 ? 2 : 1));
const dayText = (day) => new Date(`${day}T00:00:00Z`).toLocaleDateString("en", { day: "numeric", month: "short", timeZone: "UTC" });

// series: [{name, values: {day: "12.30" | 3}, cls?: 0…5}] stacked per day; `zero` is how an empty
// day reads ("0" or "0.00"); `unit` follows every amount ("EUR", or "" for counts).
// Amounts are added as exact decimals; only the bars' heights use floating point.
export function barChart({ id, title, days, series, zero = "0", unit = "" }) {
  const cell = (s, day) => String(s.values[day] ?? zero);
  const totals = days.map((day) => series.reduce((sum, s) => addDecimal(sum, cell(s, day)), zero));
  const grand = totals.reduce((sum, t) => addDecimal(sum, t), zero);
  const withUnit = (v) => (unit ? `${v} ${unit}` : String(v));
  const top = Math.max(0, ...totals.map(Number));
  const step = zero.includes(".") ? niceStep(top) : Math.max(1, niceStep(top));  // no half an order
  const ceiling = Math.max(step, Math.ceil(top / step) * step);
  const plotH = HEIGHT - TOP - BOTTOM, plotW = WIDTH - LEFT - RIGHT;
  const y = (v) => TOP + plotH - (v / ceiling) * plotH;
  const slot = plotW / Math.max(1, days.length);

  const best = totals.reduce((b, t, i) => (Number(t) > Number(totals[b]) ? i : b), 0);
  const summary = Number(grand) === 0
    ? `${title}, ${days[0]} to ${days[days.length - 1]}: none.`
    : `${title}, ${days[0]} to ${days[days.length - 1]}: ${withUnit(grand)} in all; the most on ${days[best]}, ${withUnit(totals[best])}.`;

  const drawing = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": summary,
                               focusable: "false", class: "chart-svg", preserveAspectRatio: "xMinYMin meet" });
  for (let n = 0; n * step <= ceiling + step / 1e6; n++) {
    const v = n * step;
    drawing.append(svg("line", { x1: LEFT, x2: WIDTH - RIGHT, y1: y(v), y2: y(v), class: v === 0 ? "axis" : "grid" }),
      svg("text", { x: LEFT - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, tickText(v, step)));
  }
  days.forEach((day, i) => {
    let base = 0;
    series.forEach((s, k) => {
      const value = Number(cell(s, day));
      if (value <= 0) return;
      const bar = svg("rect", { x: LEFT + i * slot + slot * 0.15, width: Math.max(1, slot * 0.7),
                                y: y(base + value), height: Math.max(1, y(base) - y(base + value)),
                                class: `bar s${(s.cls ?? k) % SERIES_CLASSES}` },
        svg("title", {}, `${day}${series.length > 1 ? ` · ${s.name}` : ""}: ${withUnit(cell(s, day))}`));
      drawing.append(bar);
      base += value;
    });
    // A label a week apart, counted back from the last day (today).
    if ((days.length - 1 - i) % 7 === 0) {
      const last = i === days.length - 1;  // ends at the right edge instead of past it
      drawing.append(svg("text", { x: LEFT + (last ? i + 1 : i + 0.5) * slot, y: HEIGHT - 8,
                                   "text-anchor": last ? "end" : "middle", class: "tick" }, dayText(day)));
    }
  });

  const legend = series.length > 1
    ? h("ul", { class: "legend" }, series.map((s, k) => h("li", {},
      h("span", { class: `swatch s${(s.cls ?? k) % SERIES_CLASSES}`, "aria-hidden": "true" }), s.name)))
    : null;
  const columns = [{ label: "Day", value: (r) => r.day },
    ...(series.length > 1 ? series.map((s) => ({ label: s.name, value: (r) => withUnit(cell(s, r.day)), num: true })) : []),
    { label: series.length > 1 ? "Total" : title, value: (r) => withUnit(r.total), num: true }];
  const rows = days.map((day, i) => ({ day, total: totals[i] }));
  return h("figure", { class: "chart", id },
    h("figcaption", {}, title), drawing, legend,
    h("details", {}, h("summary", {}, `${title} as a table`), table(title, columns, rows)));
}
