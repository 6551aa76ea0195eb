// The console's pages, one entry each: {path, title, roles (any of; empty = every staffer), render}.
// Every read and write is a staff API call; what a role may not do is not shown (the API still
// answers 403 to whoever tries).

import { ApiError, call, get, hasRole, newKey, serves } from "./api.js";
import { actionButton, announce, form, go, h, link, money, showError, table, when } from "./ui.js";
import { catalogPage } from "./catalog.js";
import { categoriesPage } from "./categories.js";
import { deadLetters } from "./deadletters.js";
import { customerRef, shortId } from "./ops.js";
import { orderDetail } from "./orders.js";
import { storefronts } from "./storefronts.js";
import { trends } from "./trends.js";
import { webhooks } from "./webhooks.js";
import { customersPage } from "./customers.js";
import { subscriptions } from "./subscriptions.js";
import { ledger } from "./ledger.js";
import { priceLists } from "./pricelists.js";
import { returnsPage } from "./returns.js";
import { promotions } from "./promotions.js";
import { shippingZones } from "./shippingzones.js";

const V1 = "/api/v1";
const ORDER_STATUSES = ["pending", "awaiting_payment", "paid", "processing", "shipped", "delivered", "returned",
                        "completed", "cancelled", "rejected", "refunded"];
const PAGE_SIZE = 25;

function hashWith(path, query) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  return `#/${path}${q.toString() ? "?" + q : ""}`;
}

// A section that loads on its own: a role it needs, or a route this platform lacks, says so in
// place instead of failing the page.
async function section(root, title, load, needs = null) {
  const body = h("div", { "aria-busy": "true" });
  root.append(h("section", { "aria-label": title }, h("h2", {}, title), body));
  if (needs && !(await serves(...needs))) {
    body.removeAttribute("aria-busy");
    body.append(h("p", { class: "muted" }, "Not available on this platform yet."));
    return body;
  }
  try {
    const content = await load();
    body.append(...[].concat(content));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) body.append(h("p", { class: "muted" }, "Your role cannot see this."));
    else if (error instanceof ApiError && (error.status === 404 || error.status === 405) && error.code !== "USER_NOT_FOUND"
             && error.code !== "ORDER_NOT_FOUND") body.append(h("p", { class: "muted" }, "Not available: " + error.message));
    else body.append(h("p", { class: "muted" }, `Could not load: ${error.message}`));
  } finally {
    body.removeAttribute("aria-busy");
  }
  return body;
}

function pager(ctx, path, page) {
  const offset = Number(ctx.query.offset || 0);
  const prev = offset > 0 ? link(hashWith(path, { ...ctx.query, offset: Math.max(0, offset - PAGE_SIZE) }), "Previous page") : null;
  const next = offset + PAGE_SIZE < page.count ? link(hashWith(path, { ...ctx.query, offset: offset + PAGE_SIZE }), "Next page") : null;
  const last = Math.min(offset + PAGE_SIZE, page.count);
  return h("nav", { class: "pager", "aria-label": "Pages" }, prev,
    h("span", {}, page.count ? `${offset + 1}–${last} of ${page.count}` : "0 results"), next);
}

function results(root, caption, page, columns, ctx, path) {
  const region = h("div", { id: "results", "aria-label": caption });
  region.append(table(caption, columns, page.results, "No results."), pager(ctx, path, page));
  root.append(region);
  // A slower answer of a page already left (a search typed while the whole list loaded) says nothing:
  // the live region is the current page's.
  if (!ctx.stale()) announce(`${page.count} ${caption.toLowerCase()} found`);
}

const staleMessage = "It changed since you opened it: the current state is shown, nothing was applied.";

// A write refused as stale (409 STALE_VERSION) shows the current state instead of the form's.
async function write(ctx, run, done) {
  try {
    const answer = await run();
    await ctx.reload();
    if (done) announce(done(answer));
    return answer;
  } catch (error) {
    if (error instanceof ApiError && error.code === "STALE_VERSION") {
      await ctx.reload();
      showError({ code: error.code, message: staleMessage });
      return null;
    }
    throw error;
  }
}

// ---------------------------------------------------------------- dashboard

async function dashboard(root) {
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

// ---------------------------------------------------------------- orders

function orderSearch(ctx) {
  const q = ctx.query;
  return form({
    id: "order-search", legend: "Find orders", submit: "Search",
    fields: [
      { name: "email", label: "Customer email", type: "email", value: q.email },
      { name: "number", label: "Order number", value: q.number, placeholder: "e.g. ORD-…" },
      { name: "status", label: "Status", type: "select", value: q.status, options: [["", "Any"], ...ORDER_STATUSES.map((s) => [s, s])] },
      { name: "storefront", label: "Storefront", value: q.storefront },
      { name: "created_after", label: "From (date)", type: "date", value: q.created_after },
      { name: "created_before", label: "To (date)", type: "date", value: q.created_before },
    ],
    onSubmit: async (values) => go(hashWith("orders", values), ctx),
  });
}

function dayBound(value, end) {
  if (!value) return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T${end ? "23:59:59.999" : "00:00:00"}Z` : value;
}

async function orders(root, ctx) {
  root.append(h("h1", {}, "Orders"), orderSearch(ctx));
  const q = ctx.query;
  const page = await get(`${V1}/staff/orders`, {
    email: q.email, number: q.number, status: q.status, storefront: q.storefront, customer: q.customer,
    created_after: dayBound(q.created_after, false), created_before: dayBound(q.created_before, true),
    limit: PAGE_SIZE, offset: q.offset });
  results(root, "Orders", page, orderColumns, ctx, "orders");
}

const orderColumns = [
  { label: "Number", value: (o) => link(`#/orders/${o.id}`, o.order_number) },
  { label: "Placed", value: (o) => when(o.created_at) },
  { label: "Customer", value: (o) => o.email || customerRef(o.user_id) },
  { label: "Storefront", value: (o) => o.storefront },
  { label: "Status", value: (o) => o.status },
  { label: "Total", value: (o) => money(o.total_amount, o.currency), num: true },
];

async function orderMail(order, ctx) {
  const page = await get(`${V1}/staff/mail`, { to: order.email, limit: 100 });
  const mails = page.results.filter((m) => m.subject.includes(order.order_number));
  return table("Mail about this order", [
    { label: "Subject", value: (m) => m.subject }, { label: "Queued", value: (m) => when(m.created_at) },
    { label: "Sent", value: (m) => m.failed_at ? `failed ${when(m.failed_at)}` : when(m.sent_at) },
    { label: "Action", value: (m) => resendButton(m, ctx) }], mails, "No mail about this order yet.");
}

function resendButton(mail, ctx) {
  const key = newKey();
  return actionButton("Resend", () => write(ctx, () => call("POST", `${V1}/staff/mail/${mail.id}/resend`,
    { body: {}, headers: { "Idempotency-Key": key } }), () => `Resent “${mail.subject}” to ${mail.to}.`),
  { "aria-label": `Resend “${mail.subject}”`, class: "secondary" });
}

// ---------------------------------------------------------------- customers: customers.js (credits: here, orders use it)

function creditsForm(userId, ctx) {
  let key = newKey();
  return form({
    id: "credits", legend: "Credits (positive grants, negative deducts)", submit: "Apply",
    fields: [{ name: "amount", label: "Number of credits", type: "number", required: true, step: 1 },
             { name: "reason", label: "Reason (the customer sees it)", required: true }],
    onSubmit: async (values) => {
      const amount = Number(values.amount);
      if (!Number.isInteger(amount) || amount === 0) {
        throw new ApiError(400, { error: { code: "VALIDATION_ERROR", message: "Credits must be a whole number other than zero.",
                                           details: { fields: { amount: ["a whole number, not zero"] } } } });
      }
      await write(ctx, () => call("POST", `${V1}/staff/customers/${userId}/credits`, { body: { amount, reason: values.reason },
        headers: { "Idempotency-Key": key } }), (r) => `${r.amount > 0 ? "Granted" : "Deducted"} ${Math.abs(r.amount)} credits; balance ${r.balance}.`);
      key = newKey();
    },
  });
}

// ---------------------------------------------------------------- catalog: catalog.js, categories.js

// ---------------------------------------------------------------- jobs, storefronts, staff, audit

function jobTable(jobs, ctx) {
  return table("Generation jobs", [
    { label: "Job", value: (j) => j.id }, { label: "Created", value: (j) => when(j.created_at) },
    { label: "Owner", value: (j) => customerRef(j.owner_id) },
    { label: "Kind", value: (j) => j.kind }, { label: "Model", value: (j) => j.model }, { label: "Status", value: (j) => j.status },
    { label: "Attempts", value: (j) => j.attempts, num: true }, { label: "Error", value: (j) => j.error || "" },
    // Only a failed job may run again (a blocked one waits for its cause).
    { label: "Action", value: (j) => j.status === "failed" && hasRole("support") ? retryButton(j, ctx) : "" }],
  jobs, "No job.");
}

function retryButton(job, ctx) {
  const key = newKey();
  return actionButton("Retry", () => write(ctx, () => call("POST", `${V1}/staff/jobs/${job.id}/retry`, { body: {}, headers: { "Idempotency-Key": key } }),
    () => `Job ${job.id} queued again.`), { "aria-label": `Retry job ${job.id}`, class: "secondary" });
}

async function jobs(root, ctx) {
  root.append(h("h1", {}, "Generation jobs"));
  if (!(await serves("GET", `${V1}/staff/jobs`))) {
    root.append(h("p", { class: "muted" }, "Not available on this platform yet."));
    return;
  }
  root.append(form({
    id: "job-filter", legend: "Jobs", submit: "Show",
    fields: [{ name: "status", label: "Status", type: "select", value: ctx.query.status || "failed", options: [["failed", "failed"], ["blocked", "blocked"]] }],
    onSubmit: async (values) => go(hashWith("jobs", values), ctx),
  }));
  const page = await get(`${V1}/staff/jobs`, { status: ctx.query.status || "failed", limit: PAGE_SIZE, offset: ctx.query.offset });
  const region = h("div", { id: "results" }, jobTable(page.results, ctx), pager(ctx, "jobs", page));
  root.append(region);
  if (!ctx.stale()) announce(`${page.count} jobs found`);
}

const ROLE_NAMES = ["support", "merchandiser", "finance", "admin"];

async function staff(root, ctx) {
  root.append(h("h1", {}, "Staff and roles"));
  const page = await get(`${V1}/staff/accounts`, { limit: 100, offset: ctx.query.offset });
  root.append(table("Staff accounts", [{ label: "Email", value: (a) => a.email }, { label: "Roles", value: (a) => a.roles.join(", ") }], page.results));
  root.append(form({
    id: "staff-roles", legend: "Set an account's roles (none: not staff any more)", submit: "Save roles",
    fields: [{ name: "email", label: "Account email", type: "email", required: true },
             ...ROLE_NAMES.map((r) => ({ name: r, label: r, type: "checkbox" }))],
    onSubmit: async (values) => {
      const roles = ROLE_NAMES.filter((r) => values[r]);
      await write(ctx, () => call("POST", `${V1}/staff/accounts`, { body: { email: values.email, roles } }),
        (a) => `${a.email}: ${a.roles.join(", ") || "no staff role"}.`);
    },
  }));
}

// An audit row's target as people read it: a customer by email, an order by its page's link.
function auditTarget(e) {
  const named = e.target_type === "user" ? customerRef(e.target)
    : e.target_type === "order" && hasRole("support", "finance") ? shortId(e.target, `#/orders/${e.target}`) : shortId(e.target);
  return h("span", {}, `${e.target_type} `, named);
}

async function audit(root, ctx) {
  root.append(h("h1", {}, "Audit log"), form({
    id: "audit-filter", legend: "Filter", submit: "Show",
    fields: [{ name: "action", label: "Action", value: ctx.query.action, placeholder: "e.g. refund.create" },
             { name: "target", label: "Target id", value: ctx.query.target },
             { name: "actor", label: "Actor id", value: ctx.query.actor }],
    onSubmit: async (values) => go(hashWith("audit", values), ctx),
  }));
  const page = await get(`${V1}/staff/audit`, { action: ctx.query.action, target: ctx.query.target, actor: ctx.query.actor,
                                                limit: PAGE_SIZE, offset: ctx.query.offset });
  const change = (e) => (e.before || e.after)
    ? h("details", {}, h("summary", {}, "Before / after"), h("pre", {}, `before: ${JSON.stringify(e.before)}\nafter: ${JSON.stringify(e.after)}`)) : "";
  results(root, "Audit entries", page, [
    { label: "When", value: (e) => when(e.at) }, { label: "Who", value: (e) => e.actor_email || customerRef(e.actor) },
    { label: "Roles", value: (e) => (e.roles || []).join(", ") }, { label: "Service", value: (e) => e.service },
    { label: "Action", value: (e) => e.action }, { label: "Target", value: auditTarget },
    { label: "Reason", value: (e) => e.reason || "" }, { label: "Change", value: change }], ctx, "audit");
}

// ---------------------------------------------------------------- the table of pages

export const PAGES = [
  { path: "dashboard", title: "Dashboard", roles: [], render: dashboard },
  { path: "orders", title: "Orders", roles: ["support", "finance"],
    render: (root, ctx) => ctx.args.length ? orderDetail(root, ctx) : orders(root, ctx) },
  { path: "returns", title: "Returns", roles: ["support", "finance"], render: returnsPage },
  { path: "customers", title: "Customers", roles: ["support"], render: customersPage },
  { path: "catalog", title: "Catalog", roles: [], render: catalogPage },
  { path: "categories", title: "Categories", roles: [], render: categoriesPage },
  { path: "price-lists", title: "Price lists", roles: ["merchandiser"], render: priceLists },
  { path: "promotions", title: "Promotions", roles: ["merchandiser"], render: promotions },
  { path: "shipping-zones", title: "Shipping zones", roles: ["merchandiser"], render: shippingZones },
  { path: "jobs", title: "Generation jobs", roles: ["support"], render: jobs },
  { path: "subscriptions", title: "Subscriptions", roles: ["support", "finance"], render: subscriptions },
  { path: "ledger", title: "Ledger", roles: ["finance"], render: ledger },
  { path: "dead-letters", title: "Dead letters", roles: ["support"], render: deadLetters },
  { path: "storefronts", title: "Storefronts", roles: ["admin"], render: storefronts },
  { path: "webhooks", title: "Webhooks", roles: ["admin"], render: webhooks },
  { path: "staff", title: "Staff and roles", roles: ["admin"], render: staff },
  { path: "audit", title: "Audit log", roles: ["admin"], render: audit },
];

// What the pages in their own modules (orders.js, storefronts.js, …) use of this one.
export { creditsForm, go, hashWith, jobTable, orderColumns, orderMail, PAGE_SIZE, resendButton, results, section, V1, write };
