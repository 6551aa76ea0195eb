// Returns: the Returns page lists every return by status and storefront (support, finance);
// the order page shows its returns, opens one for the customer, and receives or rejects an open one
// (support). Receiving asks which lines are resaleable (they go back in stock) and whether the
// shipping is refunded; orders computes the refund and payments makes it, once. A claim (damaged or
// missing goods of a shipped or delivered order) is settled from the same section at once: refunded,
// or replaced by a new order at no charge (support, finance). An exchange (units back for other
// goods, `exchanges.js`) is listed here too and received whole once approved.

import { call, get, hasRole } from "./api.js";
import { exchangeForm } from "./exchanges.js";
import { confirmButton } from "./ops.js";
import { filterForm, PAGE_SIZE, results, V1, write } from "./kit.js";
import { form, h, link, money, table, when } from "./ui.js";

const STATUSES = [["", "Any"], ["requested", "Requested"], ["approved", "Approved"], ["received", "Received"], ["refunded", "Refunded"],
                  ["rejected", "Rejected"], ["replaced", "Replaced"]];
const SHIPPED = new Set(["physical", "print_tier"]);

const lineText = (l) => `${l.name} (${l.sku}) × ${l.quantity}`;

export async function returnsPage(root, ctx) {
  const q = ctx.query;
  root.append(h("h1", {}, "Returns"), filterForm(ctx, "returns", {
    id: "returns-filter", legend: "Returns", submit: "Show",
    fields: [{ name: "status", label: "Status", type: "select", value: q.status, options: STATUSES },
             { name: "storefront", label: "Storefront", value: q.storefront },
             { name: "number", label: "Return number", value: q.number }],
  }));
  const page = await get(`${V1}/staff/returns`, { status: q.status, storefront: q.storefront, number: q.number,
                                                  limit: PAGE_SIZE, offset: q.offset });
  results(root, "Returns", page, [
    { label: "Return", value: (r) => r.number }, { label: "Opened", value: (r) => when(r.created_at) },
    { label: "Order", value: (r) => link(`#/orders/${r.order_id}`, r.order_number) },
    { label: "Storefront", value: (r) => r.storefront }, { label: "Status", value: (r) => r.status },
    { label: "Reason", value: (r) => r.reason || "" },
    { label: "Refund", value: (r) => money(r.refunded_amount ?? r.amount, r.currency), num: true }], ctx, "returns");
}

// The order page's section: its returns, and what support may do with them.
export async function returnsOf(order, ctx) {
  const page = await get(`${V1}/staff/returns`, { order_id: order.id, limit: 100 });
  const out = [table("Returns", [
    { label: "Return", value: (r) => (r.kind === "claim" ? `${r.number} (claim: ${r.resolution})`
      : r.kind === "exchange" ? `${r.number} (exchange: ${money(r.credit_amount, r.currency)} for ${money(r.outgoing_total, r.currency)})`
      : r.number) },
    { label: "Opened", value: (r) => `${when(r.created_at)} by ${r.opened_by}` },
    { label: "Status", value: (r) => h("span", { "data-return-status": r.number }, r.status,
      ...(r.replacement_order_id ? [" by ", link(`#/orders/${r.replacement_order_id}`,
        r.kind === "exchange" ? "the exchange order" : "the replacement order")] : [])) },
    { label: "Lines", value: (r) => r.items.map((l) => lineText(l) + (l.resaleable === null ? "" : l.resaleable ? ", restocked" : ", not resold")).join("; ")
      + (r.new_items.length ? `; out: ${r.new_items.map(lineText).join("; ")}` : "") },
    { label: "Reason", value: (r) => r.note ? `${r.reason} (rejected: ${r.note})` : r.reason || "" },
    { label: "Refund", value: (r) => money(r.refunded_amount ?? r.amount, r.currency), num: true }],
    page.results, "No return.")];
  if (!hasRole("support") && !hasRole("finance")) return out;
  for (const ret of page.results.filter((r) => r.status === "requested" || r.status === "approved")) {
    out.push(ret.kind === "exchange" ? exchangeActions(ret, ctx) : receiveForm(ret, order, ctx));
  }
  if (order.status === "shipped" || order.status === "delivered") out.push(claimForm(order, ctx));
  if (!hasRole("support")) return out;
  if (order.status === "delivered") out.push(openForm(order, ctx), exchangeForm(order, ctx));
  return out;
}

function receiveForm(ret, order, ctx) {
  const el = form({
    id: `receive-${ret.number}`, legend: `Receive ${ret.number}`, submit: "Receive",
    fields: [...ret.items.flatMap((l) => [
               { name: `qty-${l.id}`, label: `Received of ${lineText(l)}`, type: "number", min: 0, max: l.quantity,
                 value: String(l.quantity), inputmode: "numeric" },
               { name: `restock-${l.id}`, label: `Resaleable: ${lineText(l)}`, type: "checkbox", checked: true }]),
             { name: "refund_shipping", label: `Refund the shipping (${money(order.shipping_cost, order.currency)})`, type: "checkbox" }],
    onSubmit: async (values) => {
      const body = { refund_shipping: values.refund_shipping,
                     items: ret.items.map((l) => ({ order_item_id: l.order_item_id, quantity: Number(values[`qty-${l.id}`] || 0),
                                                    resaleable: values[`restock-${l.id}`] })).filter((l) => l.quantity > 0) };
      await write(ctx, () => call("POST", `${V1}/staff/returns/${ret.id}/receive`, { body }),
        (r) => `Return ${r.number} received: ${money(r.amount, r.currency)} to refund.`);
    },
  });
  if (!hasRole("support")) return el;
  if (ret.status === "requested") {
    el.append(h("div", { class: "actions" }, confirmButton("Approve this return", {
      title: `Approve return ${ret.number}?`, confirm: "Approve the return",
      message: "The customer may send the parcel; it is refunded once received." },
    () => write(ctx, () => call("POST", `${V1}/staff/returns/${ret.id}/approve`),
                (r) => `Return ${r.number} approved.`), { id: `approve-${ret.number}` })));
  }
  el.append(h("div", { class: "actions" }, confirmButton("Reject this return", {
    title: `Reject return ${ret.number}?`, confirm: "Reject the return",
    message: "Nothing is refunded or restocked; the customer may return these units again." },
  () => write(ctx, () => call("POST", `${V1}/staff/returns/${ret.id}/reject`, { body: { reason: "Rejected by staff" } }),
              (r) => `Return ${r.number} rejected.`), { id: `reject-${ret.number}`, class: "secondary" })));
  return el;
}

// An exchange: approved (its new items' order placed) before it is received, then received whole,
// each line resaleable or not; a requested one may be rejected.
function exchangeActions(ret, ctx) {
  if (ret.status === "requested") {
    if (!hasRole("support")) return h("p", {}, `Exchange ${ret.number} waits for support's approval.`);
    return h("div", { class: "actions", id: `exchange-${ret.number}` },
      confirmButton("Approve this exchange", {
        title: `Approve exchange ${ret.number}?`, confirm: "Approve the exchange",
        message: "The new items go out as an order of their own once their stock is held (and the difference paid)." },
      () => write(ctx, () => call("POST", `${V1}/staff/returns/${ret.id}/approve`),
                  (r) => (r.payment_url ? `Exchange ${r.number} approved: the customer pays the difference at ${r.payment_url}`
                                        : `Exchange ${r.number} approved.`)), { id: `approve-${ret.number}` }),
      confirmButton("Reject this exchange", {
        title: `Reject exchange ${ret.number}?`, confirm: "Reject the exchange",
        message: "Nothing goes out; the customer may return or exchange these units again." },
      () => write(ctx, () => call("POST", `${V1}/staff/returns/${ret.id}/reject`, { body: { reason: "Rejected by staff" } }),
                  (r) => `Exchange ${r.number} rejected.`), { id: `reject-${ret.number}`, class: "secondary" }));
  }
  return form({
    id: `receive-${ret.number}`, legend: `Receive exchange ${ret.number} (every unit)`, submit: "Receive",
    fields: ret.items.map((l) => ({ name: `restock-${l.id}`, label: `Resaleable: ${lineText(l)}`, type: "checkbox", checked: true })),
    onSubmit: async (values) => {
      const body = { items: ret.items.map((l) => ({ order_item_id: l.order_item_id, quantity: l.quantity,
                                                    resaleable: values[`restock-${l.id}`] })) };
      await write(ctx, () => call("POST", `${V1}/staff/returns/${ret.id}/receive`, { body }),
        (r) => `Exchange ${r.number} received: ${money(r.amount, r.currency)} to refund.`);
    },
  });
}

function openForm(order, ctx) {
  const lines = order.items.filter((i) => SHIPPED.has(i.kind));
  return form({
    id: "open-return", legend: "Open a return for the customer", submit: "Open the return",
    fields: [...lines.map((i) => ({ name: `qty-${i.id}`, label: `${i.name} (${i.sku}), of ${i.quantity}`, type: "number",
                                    min: 0, max: i.quantity, value: "0", inputmode: "numeric" })),
             { name: "reason", label: "Reason", required: true }],
    onSubmit: async (values) => {
      const chosen = lines.map((i) => ({ order_item_id: i.id, quantity: Number(values[`qty-${i.id}`] || 0) })).filter((l) => l.quantity > 0);
      const body = { items: chosen, reason: values.reason };
      await write(ctx, () => call("POST", `${V1}/staff/orders/${order.id}/returns`, { body }),
        (r) => `Return ${r.number} opened.`);
    },
  });
}

// Damaged or missing goods: settled now, by a refund of their share of what was charged, or by
// the same goods again as a new order at no charge (goods from stock only; orders refuses a printed book).
function claimForm(order, ctx) {
  const lines = order.items.filter((i) => SHIPPED.has(i.kind));
  return form({
    id: "open-claim", legend: "Settle a claim (damaged or missing goods)", submit: "Settle the claim",
    fields: [...lines.map((i) => ({ name: `claim-${i.id}`, label: `${i.name} (${i.sku}), of ${i.quantity}`, type: "number",
                                    min: 0, max: i.quantity, value: "0", inputmode: "numeric" })),
             { name: "resolution", label: "Settle by", type: "select", value: "replace",
               options: [["replace", "Sending them again at no charge"], ["refund", "Refunding them"]] },
             { name: "reason", label: "What happened", required: true }],
    onSubmit: async (values) => {
      const chosen = lines.map((i) => ({ order_item_id: i.id, quantity: Number(values[`claim-${i.id}`] || 0) })).filter((l) => l.quantity > 0);
      const body = { items: chosen, reason: values.reason, resolution: values.resolution };
      await write(ctx, () => call("POST", `${V1}/staff/orders/${order.id}/claims`, { body }),
        (r) => (r.resolution === "refund" ? `Claim ${r.number}: ${money(r.amount, r.currency)} to refund.`
                                          : `Claim ${r.number}: a replacement order is on its way to the shelf.`));
    },
  });
}
