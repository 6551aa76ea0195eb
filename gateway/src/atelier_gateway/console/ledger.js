// The ledger (finance's): every customer's money and credit movements from payments'
// /api/v1/staff/ledger, newest first, by customer email, storefront, kind and day. A customer is
// found by email through identity's search (finance may read customers to name whom it refunds).

import { get } from "./api.js";
import { customerRef } from "./ops.js";
import { filterForm, PAGE_SIZE, pageServed, results, V1 } from "./kit.js";
import { h, link, money, when } from "./ui.js";

const KINDS = [["", "Any"], ["payment", "Payment"], ["refund", "Refund"], ["credit_purchase", "Credit purchase"],
               ["credit_consumed", "Credits used"]];
const KIND_LABELS = new Map(KINDS.filter(([value]) => value));

// The account whose email is exactly `email` (the search matches parts of emails and names too).
async function customerByEmail(email) {
  const page = await get(`${V1}/staff/customers`, { q: email, limit: 100 });
  return page.results.find((c) => (c.email || "").toLowerCase() === email.toLowerCase()) || null;
}

// A day typed in the form as the instant the API filters on: its start, or the next day's start.
function dayStart(day, next = false) {
  if (!day) return undefined;
  const at = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(at.getTime())) return undefined;
  if (next) at.setUTCDate(at.getUTCDate() + 1);
  return at.toISOString();
}

export async function ledger(root, ctx) {
  if (!(await pageServed(root, "Ledger", `${V1}/staff/ledger`))) return;
  const q = ctx.query;
  root.append(ledgerFilter(q, ctx));
  let customer;
  if (q.email) {
    const found = await customerByEmail(q.email);
    if (!found) {
      root.append(h("p", { id: "results", role: "status" }, `No customer has the email ${q.email}.`));
      return;
    }
    customer = found.id;
  }
  const page = await get(`${V1}/staff/ledger`, {
    customer, storefront: q.storefront, kind: q.kind, created_after: dayStart(q.from),
    created_before: dayStart(q.to, true), limit: PAGE_SIZE, offset: q.offset });
  results(root, "Ledger entries", page, [
    { label: "When", value: (e) => when(e.created_at) },
    { label: "Customer", value: (e) => customerRef(e.owner_id) },
    { label: "Storefront", value: (e) => e.storefront }, { label: "Kind", value: (e) => KIND_LABELS.get(e.kind) || e.kind },
    { label: "Amount", value: (e) => (e.amount === null ? "" : money(e.amount, e.currency)), num: true },
    { label: "Credits", value: (e) => (e.credits === null ? "" : String(e.credits)), num: true },
    // An order's entry opens the order (finance refunds there).
    { label: "Description", value: (e) => (e.order_id ? link(`#/orders/${e.order_id}`, e.description) : e.description) },
  ], ctx, "ledger");
}

function ledgerFilter(q, ctx) {
  return filterForm(ctx, "ledger", {
    id: "ledger-filter", legend: "Ledger entries", submit: "Show",
    fields: [{ name: "email", label: "Customer email", type: "email", value: q.email },
             { name: "storefront", label: "Storefront", value: q.storefront },
             { name: "kind", label: "Kind", type: "select", value: q.kind, options: KINDS },
             { name: "from", label: "From (day, UTC)", type: "date", value: q.from },
             { name: "to", label: "To (day, UTC)", type: "date", value: q.to }],
  });
}
