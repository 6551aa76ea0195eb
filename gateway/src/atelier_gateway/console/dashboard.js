// The dashboard: today's orders and revenue (orders' daily report), failed generation jobs and dead
// letters as cards, and the last 30 days as charts (trends.js). Each figure is a service's count.

import { get, hasRole } from "./api.js";
import { hashWith, section, V1 } from "./kit.js";
import { trends } from "./trends.js";
import { h, link, table } from "./ui.js";

export async function dashboard(root) {
  root.append(h("h1", {}, "Dashboard"));
  const cards = h("div", { class: "cards" });
  root.append(cards);
  await trends(root);
  if (hasRole("support", "finance")) {
    // Today's figures are orders' daily report (the server counts and sums every order of the
    // day), never a sum of the orders a browser could fetch.
    await section(root, "Today's orders", async () => {
      const report = await get(`${V1}/staff/reports/daily`, { days: 1 });
      const rows = report.results.filter((r) => r.day === report.until);
      const count = rows.reduce((n, r) => n + r.orders, 0);
      cards.append(h("div", { class: "card" }, h("div", { class: "muted" }, "Orders today (UTC)"), h("div", { class: "big", id: "orders-today" }, count)));
      const revenue = rows.flatMap((r) => Object.entries(r.revenue).map(([currency, total]) => ({ storefront: r.storefront, currency, total })))
        .sort((a, b) => a.storefront.localeCompare(b.storefront) || a.currency.localeCompare(b.currency));
      return [table("Revenue per storefront and currency (paid orders today, before refunds)",
        [{ label: "Storefront", value: (r) => r.storefront }, { label: "Currency", value: (r) => r.currency },
         { label: "Revenue", value: (r) => h("span", { id: `revenue-${r.storefront}-${r.currency}` }, r.total), num: true }], revenue, "No paid order today."),
        link(hashWith("orders", { created_after: report.until }), "Today's orders")];
    }, ["GET", `${V1}/staff/reports/daily`]);
  }
  if (hasRole("support")) {
    await section(root, "Failed generation jobs", async () => {
      const page = await get(`${V1}/staff/jobs`, { status: "failed", limit: 1 });
      cards.append(h("div", { class: "card" }, h("div", { class: "muted" }, "Failed jobs"), h("div", { class: "big" }, page.count)));
      return link("#/jobs", "Failed and blocked jobs");
    }, ["GET", `${V1}/staff/jobs`]);
    await section(root, "Dead letters", async () => {
      const answer = await get(`${V1}/staff/dead-letters`);
      const total = answer.consumers.reduce((n, c) => n + c.count, 0);
      cards.append(h("div", { class: "card" }, h("div", { class: "muted" }, "Dead letters"), h("div", { class: "big", id: "dead-letters" }, total)));
      return table("Dead letters per consumer", [{ label: "Consumer", value: (c) => link(`#/dead-letters/${c.consumer}`, c.consumer) },
        { label: "Messages", value: (c) => c.count, num: true }],
        answer.consumers.filter((c) => c.count > 0), "No dead letters.");
    });
  }
  if (!cards.children.length) cards.append(h("p", { class: "muted" }, "Use the sections on the left."));
}
