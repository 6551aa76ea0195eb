// Customers (support's): found by email or name; a customer's page gathers what each
// service owns of them — the account and its signed-in sessions and mail (identity), orders,
// credits, plans, jobs and books — with the actions support takes there. What cannot be undone
// (ending every session, a suspension) is confirmed first.

import { call, get, hasRole, newKey, serves } from "./api.js";
import { confirmButton, shortId } from "./ops.js";
import { jobTable } from "./jobs.js";
import { creditsForm, filterForm, hashWith, PAGE_SIZE, resendButton, results, section, V1, write } from "./kit.js";
import { orderColumns } from "./orders.js";
import { plansChangeable, subscriptionColumns } from "./subscriptions.js";
import { actionButton, facts, h, link, table, when } from "./ui.js";

export async function customersPage(root, ctx) {
  return ctx.args.length ? customerDetail(root, ctx) : customers(root, ctx);
}

async function customers(root, ctx) {
  root.append(h("h1", {}, "Customers"), filterForm(ctx, "customers", {
    id: "customer-search", legend: "Find customers", submit: "Search",
    fields: [{ name: "q", label: "Email or name", value: ctx.query.q }],
  }));
  const page = await get(`${V1}/staff/customers`, { q: ctx.query.q, limit: PAGE_SIZE, offset: ctx.query.offset });
  results(root, "Customers", page, [
    { label: "Email", value: (c) => link(`#/customers/${c.id}`, c.email || c.username || c.id) },
    { label: "Name", value: (c) => `${c.first_name} ${c.last_name}`.trim() || "—" },
    { label: "Active", value: (c) => c.is_active ? "yes" : "suspended" },
    { label: "Verified", value: (c) => c.email_verified_at ? "yes" : "no" },
    { label: "Storefront", value: (c) => c.signup_storefront }, { label: "Joined", value: (c) => when(c.created_at) }], ctx, "customers");
}

async function customerDetail(root, ctx) {
  const id = ctx.args[0];
  const c = await get(`${V1}/staff/customers/${encodeURIComponent(id)}`);
  root.append(h("p", {}, link("#/customers", "← Customers")), h("h1", {}, c.email || c.username || c.id));
  root.append(facts([["Name", `${c.first_name} ${c.last_name}`.trim() || "—"],
    ["Account", h("span", { id: "account-state" }, c.is_active ? "active" : "suspended")],
    ["Email verified", h("span", { id: "email-verified" }, c.email_verified_at ? when(c.email_verified_at) : "no")],
    ["Storefront", c.signup_storefront], ["Last sign-in", when(c.last_login_at)], ["Joined", when(c.created_at)],
    ["Staff roles", (c.staff_roles || []).join(", ") || "—"],
    ["Signed-in sessions", h("span", { id: "active-sessions" }, c.active_sessions ?? "—")]]));
  root.append(h("h2", {}, "Actions"), await customerActions(c, ctx));
  if (hasRole("finance")) await section(root, "Grant or deduct credits", async () => creditsForm(c.id, ctx));
  await section(root, "Orders", async () => {
    const page = await get(`${V1}/staff/orders`, { customer: c.id, limit: PAGE_SIZE });
    const list = table("The customer's orders", orderColumns.filter((col) => col.label !== "Customer"), page.results, "No order.");
    return page.count > page.results.length ? [list, link(hashWith("orders", { customer: c.id }), `All ${page.count} orders`)] : list;
  });
  await section(root, "Credits", async () => {
    const wallet = await get(`${V1}/staff/customers/${c.id}/credits`);
    return [facts([["Balance", h("span", { id: "credit-balance" }, wallet.balance)]]),
      table("Credits ledger", [{ label: "When", value: (t) => when(t.created_at) }, { label: "Type", value: (t) => t.transaction_type },
        { label: "Description", value: (t) => t.description }, { label: "Amount", value: (t) => t.amount, num: true },
        { label: "Balance after", value: (t) => t.balance_after, num: true }], wallet.transactions, "No credit transaction.")];
  }, ["GET", `${V1}/staff/customers/{}/credits`]);
  await section(root, "Sessions", async () => {
    const page = await get(`${V1}/staff/customers/${c.id}/sessions`, { limit: 100 });
    return table("Signed-in sessions (devices)", [
      { label: "Session", value: (s) => shortId(s.id) }, { label: "Signed in", value: (s) => when(s.created_at) },
      { label: "Last active", value: (s) => when(s.last_used_at) }, { label: "Storefront", value: (s) => s.storefront || "—" },
      { label: "Expires", value: (s) => when(s.expires_at) }], page.results, "Not signed in anywhere.");
  }, ["GET", `${V1}/staff/customers/{}/sessions`]);
  await section(root, "Mail", async () => {
    if (!c.email) return h("p", { class: "muted" }, "This account has no email address.");
    // Mail is kept by address: what went to an address the customer had before is not listed.
    const page = await get(`${V1}/staff/mail`, { to: c.email, limit: 100 });
    return table("Mail sent to the customer", [
      { label: "Subject", value: (m) => m.subject }, { label: "Kind", value: (m) => m.kind },
      { label: "Queued", value: (m) => when(m.created_at) },
      { label: "Sent", value: (m) => m.failed_at ? `failed ${when(m.failed_at)}` : (m.sent_at ? when(m.sent_at) : "not yet") },
      { label: "Action", value: (m) => resendButton(m, ctx) }], page.results, "No mail on record (sent mail is deleted after a while).");
  }, ["GET", `${V1}/staff/mail`]);
  await section(root, "Subscriptions", async () => {
    const page = await get(`${V1}/staff/subscriptions`, { customer: c.id });
    return table("The customer's subscriptions", subscriptionColumns(ctx, { customer: false, actions: await plansChangeable() }),
      page.results, "No subscription.");
  }, ["GET", `${V1}/staff/subscriptions`]);
  await section(root, "Generation jobs", async () => {
    const page = await get(`${V1}/staff/jobs`, { customer: c.id, limit: PAGE_SIZE });
    return jobTable(page.results, ctx);
  }, ["GET", `${V1}/staff/jobs`]);
  await section(root, "Books", async () => {
    const page = await get(`${V1}/staff/books`, { customer: c.id, limit: PAGE_SIZE });
    return table("Books", [{ label: "Title", value: (b) => b.title }, { label: "Status", value: (b) => b.status },
      { label: "Language", value: (b) => b.language }, { label: "Print", value: (b) => b.print_tier ? `${b.print_tier}${b.print_paid_at ? " (paid)" : ""}` : "—" },
      { label: "Storefront", value: (b) => b.storefront }, { label: "Created", value: (b) => when(b.created_at) }], page.results, "No book.");
  }, ["GET", `${V1}/staff/books`]);
}

// What ending every session and suspending tell the staffer before they confirm.
const ASK = {
  suspend: (c) => ({ title: `Suspend ${c.email || c.username}?`, confirm: "Suspend the account",
    message: "The customer is signed out everywhere and cannot sign in until an admin reactivates the account." }),
  "sign-out": (c) => ({ title: `Sign ${c.email || c.username} out everywhere?`, confirm: "Sign out everywhere",
    message: `Every session of the customer ends now (${c.active_sessions} signed in); they sign in again with their password or a mailed link. This cannot be undone.` }),
};

async function customerActions(c, ctx) {
  const actions = h("div", { class: "actions" });
  const act = (label, path, done) => {
    const key = newKey();
    const run = () => write(ctx, () => call("POST", `${V1}/staff/customers/${c.id}/${path}`, {
      body: c.version ? { expected_version: c.version } : {}, headers: { "Idempotency-Key": key } }), () => done);
    return ASK[path] ? confirmButton(label, ASK[path](c), run) : actionButton(label, run);
  };
  if (!hasRole("support")) return h("p", { class: "muted" }, "Your role has no customer action.");
  // Suspending and reactivating are the admin's, and so is every action on a staff account:
  // identity refuses the rest; this only decides what is shown.
  const admin = hasRole("admin");
  if ((c.staff_roles || []).length && !admin) return h("p", { class: "muted" }, "A staff account: only an admin acts on it.");
  const unverified = c.email && !c.email_verified_at;
  const offered = [
    [c.is_active && admin, "Suspend", "suspend", "The account is suspended."],
    [!c.is_active && admin, "Reactivate", "reactivate", "The account is active again."],
    [unverified, "Mark email verified", "verify-email", "The email is verified."],
    [unverified && c.is_active, "Send verification mail", "verification-mail", "A verification mail is on its way."],
    [c.email && c.is_active, "Send password reset", "password-reset", "A password reset mail is on its way."],  // suspended: 409
    [c.active_sessions !== 0, "Sign out everywhere", "sign-out", "Every session of the customer ended."]];
  for (const [shown, label, path, done] of offered) {
    if (shown && await serves("POST", `${V1}/staff/customers/{}/${path}`)) actions.append(act(label, path, done));
  }
  return actions.children.length ? actions : h("p", { class: "muted" }, "No action available.");
}
