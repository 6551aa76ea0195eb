// Customers' plans (payments' /api/v1/staff/subscriptions, support and finance): the list by status,
// and a plan cancelled at the end of its period or kept again before that end, by the rules
// of the customer's own cancel. Neither needs a confirmation: each undoes the other until the end.

import { call, get, hasRole, serves } from "./api.js";
import { customerRef } from "./ops.js";
import { filterForm, PAGE_SIZE, pageServed, results, V1, write } from "./kit.js";
import { actionButton, h, money, when } from "./ui.js";

const base = (x) => `${V1}/staff/subscriptions/${encodeURIComponent(x.id)}`;

// Whether this platform's payments takes staff's plan changes (an older release only lists plans).
export async function plansChangeable() {
  return hasRole("support", "finance") && await serves("POST", `${V1}/staff/subscriptions/{}/cancel`);
}

function subscriptionAction(x, ctx) {
  // Only a plan that still runs changes (payments says so too: 400 INVALID_STATE).
  if (!["active", "past_due"].includes(x.status)) return "";
  const [label, path, done] = x.cancel_at_period_end
    ? ["Reactivate", "reactivate", `The ${x.plan_sku} plan renews again.`]
    : ["Cancel at period end", "cancel", `The ${x.plan_sku} plan ends on ${when(x.current_period_end)}.`];
  return actionButton(label, () => write(ctx, () => call("POST", `${base(x)}/${path}`, { body: {} }), () => done),
    { class: "secondary" });
}

// `actions`: plansChangeable()'s answer.
export function subscriptionColumns(ctx, { customer = true, actions = false } = {}) {
  return [
    ...(customer ? [{ label: "Customer", value: (x) => customerRef(x.user_id) }] : []),
    { label: "Plan", value: (x) => x.plan_sku }, { label: "Tier", value: (x) => x.tier },
    { label: "Status", value: (x) => h("span", { class: "subscription-status" },
      x.cancel_at_period_end ? `${x.status} (ends at period end)` : x.status) },
    { label: "Price", value: (x) => money(x.amount, x.currency), num: true }, { label: "Storefront", value: (x) => x.storefront },
    { label: "Period ends", value: (x) => when(x.current_period_end) },
    ...(actions ? [{ label: "Action", value: (x) => subscriptionAction(x, ctx) }] : [])];
}

export async function subscriptions(root, ctx) {
  if (!(await pageServed(root, "Subscriptions", `${V1}/staff/subscriptions`))) return;
  root.append(filterForm(ctx, "subscriptions", {
    id: "subscription-filter", legend: "Subscriptions", submit: "Show",
    fields: [{ name: "status", label: "Status", type: "select", value: ctx.query.status,
               options: [["", "Any"], ...["active", "past_due", "incomplete", "canceled"].map((x) => [x, x])] }],
  }));
  const page = await get(`${V1}/staff/subscriptions`, { status: ctx.query.status, limit: PAGE_SIZE, offset: ctx.query.offset });
  results(root, "Subscriptions", page, subscriptionColumns(ctx, { actions: await plansChangeable() }), ctx, "subscriptions");
}
