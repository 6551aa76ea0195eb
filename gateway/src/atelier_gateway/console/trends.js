// The dashboard's last 30 days as charts: orders and revenue per day from orders' report, failed
// generation jobs per day from generation's (the services count; the page only draws). Revenue is
// one chart per currency, stacked by storefront; a storefront keeps its colour in every chart.

import { get, hasRole } from "./api.js";
import { barChart, dayRange, SERIES_CLASSES } from "./charts.js";
import { section, V1 } from "./kit.js";
import { h } from "./ui.js";

const DAYS = 30;

function ordersCharts(report) {
  const days = dayRange(report.since, report.until);
  const storefronts = [...new Set(report.results.map((r) => r.storefront))].sort();
  const colour = (storefront) => storefronts.indexOf(storefront) % SERIES_CLASSES;
  const perStorefront = (pick) => storefronts.map((name) => ({
    name, cls: colour(name),
    values: Object.fromEntries(report.results.filter((r) => r.storefront === name && pick(r) !== undefined)
      .map((r) => [r.day, pick(r)])) }));
  const charts = [barChart({ id: "chart-orders", title: "Orders per day", days, series: perStorefront((r) => r.orders) })];
  const currencies = [...new Set(report.results.flatMap((r) => Object.keys(r.revenue)))].sort();
  for (const currency of currencies) {
    charts.push(barChart({ id: `chart-revenue-${currency}`, title: `Revenue in ${currency} per day`, days, zero: "0.00",
      unit: currency, series: perStorefront((r) => r.revenue[currency]).filter((s) => Object.keys(s.values).length) }));
  }
  if (!currencies.length) charts.push(h("p", { class: "muted" }, `No paid order in the last ${DAYS} days.`));
  return h("div", { class: "charts" }, charts);
}

export async function trends(root) {
  if (hasRole("support", "finance")) {
    await section(root, `Orders and revenue, last ${DAYS} days (UTC)`, async () => {
      const report = await get(`${V1}/staff/reports/daily`, { days: DAYS });
      return [h("p", { class: "muted" }, "Revenue: orders paid and kept, before partial refunds, by the day they were placed."),
        ordersCharts(report)];
    }, ["GET", `${V1}/staff/reports/daily`]);
  }
  if (hasRole("support")) {
    await section(root, `Failed generation jobs, last ${DAYS} days (UTC)`, async () => {
      const report = await get(`${V1}/staff/reports/failed-jobs`, { days: DAYS });
      return h("div", { class: "charts" }, barChart({ id: "chart-failed-jobs", title: "Failed jobs per day", days: dayRange(report.since, report.until),
        series: [{ name: "Failed", values: Object.fromEntries(report.results.map((r) => [r.day, r.failed])) }] }));
    }, ["GET", `${V1}/staff/reports/failed-jobs`]);
  }
}
