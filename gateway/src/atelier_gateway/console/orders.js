// Orders (support's and finance's): the search, and an order's page: its lines, where it goes (the
// shipping address), its history, the status moves orders allows now, its money (refunds are
// finance's, after a confirmation), its edits while unshipped (edits.js), its returns (returns.js), its
// invoice and credit notes.

import { ApiError, call, get, hasRole, newKey, parameterChoices } from "./api.js";
import { creditsForm, filterForm, PAGE_SIZE, resendButton, results, section, V1, write } from "./kit.js";
import { confirmed, customerRef } from "./ops.js";
import { editsOf } from "./edits.js";
import { returnsOf } from "./returns.js";
import { actionButton, announce, facts, form, h, link, money, saveFile, table, when } from "./ui.js";

export async function ordersPage(root, ctx) {
  return ctx.args.length ? orderDetail(root, ctx) : orders(root, ctx);
}

// ---------------------------------------------------------------- the search

// The statuses are orders' (the `status` filter's values in the OpenAPI document); without the
// document the filter is a text box, and orders refuses a status it does not know.
async function orderSearch(ctx) {
  const q = ctx.query;
  const statuses = await parameterChoices("GET", `${V1}/staff/orders`, "status");
  return filterForm(ctx, "orders", {
    id: "order-search", legend: "Find orders", submit: "Search",
    fields: [
      { name: "email", label: "Customer email", type: "email", value: q.email },
      { name: "number", label: "Order number", value: q.number, placeholder: "e.g. ORD-…" },
      statuses
        ? { name: "status", label: "Status", type: "select", value: q.status, options: [["", "Any"], ...statuses.map((s) => [s, s])] }
        : { name: "status", label: "Status", value: q.status, placeholder: "e.g. paid" },
      { name: "storefront", label: "Storefront", value: q.storefront },
      { name: "created_after", label: "From (date)", type: "date", value: q.created_after },
      { name: "created_before", label: "To (date)", type: "date", value: q.created_before },
    ],
  });
}

function dayBound(value, end) {
  if (!value) return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T${end ? "23:59:59.999" : "00:00:00"}Z` : value;
}

async function orders(root, ctx) {
  root.append(h("h1", {}, "Orders"), await orderSearch(ctx));
  const q = ctx.query;
  const page = await get(`${V1}/staff/orders`, {
    email: q.email, number: q.number, status: q.status, storefront: q.storefront, customer: q.customer,
    created_after: dayBound(q.created_after, false), created_before: dayBound(q.created_before, true),
    limit: PAGE_SIZE, offset: q.offset });
  results(root, "Orders", page, orderColumns, ctx, "orders");
}

// A list of orders' columns (a customer's page shows theirs without the customer's).
export const orderColumns = [
  { label: "Number", value: (o) => link(`#/orders/${o.id}`, o.order_number) },
  { label: "Placed", value: (o) => when(o.created_at) },
  { label: "Customer", value: (o) => o.email || customerRef(o.user_id) },
  { label: "Storefront", value: (o) => o.storefront },
  { label: "Status", value: (o) => o.status },
  { label: "Total", value: (o) => money(o.total_amount, o.currency), num: true },
];

// ---------------------------------------------------------------- an order's page

// The order's status as staff read it: a live order refunded in full keeps its status (it was
// shipped), but reads as refunded.
function statusText(order) {
  if (order.refund_state === "full" && order.status !== "refunded") return `refunded (was ${order.status})`;
  if (order.refund_state === "partial") return `${order.status} (partly refunded)`;
  return order.status;
}

const ADDRESS_LINES = (a) => [
  a.full_name || `${a.first_name || ""} ${a.last_name || ""}`.trim(),
  a.address_line_1 || a.street_address, a.address_line_2,
  [a.postal_code, a.city].filter(Boolean).join(" "), a.state, a.country, a.phone];

function address(a, id) {
  if (!a) return h("span", { id }, "—");
  return h("address", { id }, ADDRESS_LINES(a).filter(Boolean).flatMap((line, i) => (i ? [h("br"), line] : [line])));
}

async function orderDetail(root, ctx) {
  const id = ctx.args[0];
  const order = await get(`${V1}/staff/orders/${encodeURIComponent(id)}`);
  root.append(h("p", {}, link("#/orders", "← Orders")), h("h1", {}, `Order ${order.order_number}`));
  // By email; an account without one (a username account) by the name identity knows it by.
  const customer = !order.user_id ? (order.email || "—")
    : order.email && hasRole("support") ? link(`#/customers/${order.user_id}`, order.email) : (order.email || customerRef(order.user_id));
  root.append(facts([
    ["Status", h("span", { id: "order-status" }, statusText(order))], ["Storefront", order.storefront], ["Customer", customer],
    ["Placed", when(order.created_at)], ["Paid", when(order.paid_at)], ["Shipped", when(order.shipped_at)],
    ["Delivered", when(order.delivered_at)], ["Tracking", h("span", { id: "tracking" }, order.tracking_number || "—")],
    ["Subtotal", money(order.subtotal, order.currency)],
    ["Tax", order.tax_rate == null ? money(order.tax_amount, order.currency)
      : `${money(order.tax_amount, order.currency)} at ${parseFloat((Number(order.tax_rate) * 100).toFixed(4))} %`],
    ["Shipping", money(order.shipping_cost, order.currency)],
    // The zone's method it ships by; none on a storefront without zones.
    ["Shipping method", h("span", { id: "shipping-method" }, order.shipping_method
      ? `${order.shipping_method.name}, zone ${order.shipping_zone}` : "—")],
    ["Discount", money(order.discount, order.currency)],
    ["Total", money(order.total_amount, order.currency)],
    // A claim's replacement, or an exchange's order (its credit pays part or all of it).
    ...(order.replaces_order_id ? [[Number(order.exchange_credit) > 0 ? "Exchange order of" : "Replacement of",
      link(`#/orders/${order.replaces_order_id}`, "the original order")]] : []),
    ...(Number(order.exchange_credit) > 0 ? [["Paid by the exchange's credit", money(order.exchange_credit, order.currency)]] : [])]));
  root.append(h("h2", {}, "Addresses"), facts([
    ["Ship to", address(order.shipping_address, "shipping-address")],
    ["Bill to", address(order.billing_address, "billing-address")],
    // A business buyer's tax number, as given with the order (printed on its invoice).
    ...(order.buyer_tax_number ? [["Buyer's tax number", h("span", { id: "buyer-tax-number" }, order.buyer_tax_number)]] : [])]));
  root.append(h("h2", {}, "Lines"), table("Order lines", [
    { label: "Item", value: (i) => i.variant_name ? `${i.name} (${i.variant_name})` : i.name },
    { label: "SKU", value: (i) => i.sku }, { label: "Kind", value: (i) => i.kind },
    { label: "Quantity", value: (i) => i.quantity, num: true },
    // Where its units ship from: catalog's stock locations, as it reserved them (a split line names two).
    { label: "Ships from", value: (i) => (i.ships_from ? i.ships_from.map((s) => `${s.location} × ${s.quantity}`).join(", ") : "—") },
    { label: "Unit price", value: (i) => money(i.unit_price, order.currency), num: true },
    { label: "Line total", value: (i) => money(i.line_total, order.currency), num: true }], order.items));
  root.append(h("h2", {}, "Status history"), table("Status history", [
    { label: "When", value: (s) => when(s.created_at) }, { label: "From", value: (s) => s.from_status || "—" },
    { label: "To", value: (s) => s.status }, { label: "By", value: (s) => s.actor }, { label: "Note", value: (s) => s.note || "" }],
    order.status_history));
  if (hasRole("support")) root.append(statusForm(order, ctx));
  await section(root, "Payments and refunds", async () => paymentsOf(order, ctx));
  await section(root, "Edits", async () => editsOf(order, ctx), ["GET", `${V1}/staff/orders/{order_id}/edits`]);
  await section(root, "Returns", async () => returnsOf(order, ctx), ["GET", `${V1}/staff/returns`]);
  if (hasRole("support", "finance")) {
    await section(root, "Invoice and credit notes", async () => invoiceOf(order),
                  ["GET", `${V1}/staff/orders/{order_id}/invoice`]);
  }
  if (hasRole("support") && order.email) {
    await section(root, "Mail about this order", async () => orderMail(order, ctx), ["GET", `${V1}/staff/mail`]);
  }
  if (hasRole("finance") && order.user_id && !hasRole("support")) {
    // Finance grants credits from the order (customer pages are support's).
    await section(root, "Credits", async () => creditsForm(order.user_id, ctx));
  }
}

async function orderMail(order, ctx) {
  const page = await get(`${V1}/staff/mail`, { to: order.email, limit: 100 });
  const mails = page.results.filter((m) => m.subject.includes(order.order_number));
  return table("Mail about this order", [
    { label: "Subject", value: (m) => m.subject }, { label: "Queued", value: (m) => when(m.created_at) },
    { label: "Sent", value: (m) => m.failed_at ? `failed ${when(m.failed_at)}` : when(m.sent_at) },
    { label: "Action", value: (m) => resendButton(m, ctx) }], mails, "No mail about this order yet.");
}

async function paymentsOf(order, ctx) {
  let picture;
  try {
    picture = await get(`${V1}/staff/payments/orders/${order.id}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404 && error.code !== "NOT_FOUND") return h("p", { class: "muted" }, "No payment yet.");
    throw error;
  }
  const out = [
    facts([["Refunded", h("span", { id: "total-refunded" }, money(picture.total_refunded, order.currency))],
           ["Refundable", h("span", { id: "refundable" }, money(picture.refundable, order.currency))]]),
    table("Payments", [{ label: "Paid", value: (p) => when(p.created_at) }, { label: "Provider", value: (p) => p.provider },
      { label: "Kind", value: (p) => p.kind }, { label: "Status", value: (p) => p.status },
      { label: "Amount", value: (p) => money(p.amount, p.currency), num: true }], picture.payments, "No payment."),
    h("h3", {}, "Refunds"),
    table("Refunds", [{ label: "When", value: (r) => when(r.created_at) }, { label: "Status", value: (r) => r.status },
      { label: "Reason", value: (r) => r.reason }, { label: "Amount", value: (r) => money(r.amount, r.currency), num: true }],
      picture.refunds, "No refund."),
  ];
  if (hasRole("finance") && Number(picture.refundable) > 0) out.push(refundForm(order, picture, ctx));
  return out;
}

// The paid order's invoice and its credit notes, each a PDF to download: the staff API wants the
// bearer token, so a button fetches the file and saves it (no link could carry the token).
async function invoiceOf(order) {
  const base = `${V1}/staff/orders/${encodeURIComponent(order.id)}`;
  let invoice;
  try {
    invoice = await get(`${base}/invoice`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return h("p", { class: "muted", id: "no-invoice" }, "No invoice: the order is not paid.");
    throw error;
  }
  const pdf = (path, number) => actionButton(`Download ${number} (PDF)`, async () => {
    saveFile(`${number}.pdf`, await call("GET", `${base}/${path}`, { asBlob: true, headers: { Accept: "application/pdf" } }), "application/pdf");
    announce(`Downloaded ${number}.`);
  }, { "data-document": number });
  return [
    facts([["Invoice", h("span", { id: "invoice-number" }, invoice.number)], ["Issued", when(invoice.issued_at)],
           ["Total", money(invoice.total_amount, invoice.currency)], ["Credited", money(invoice.credited, invoice.currency)]]),
    h("div", { class: "actions" }, pdf("invoice.pdf", invoice.number)),
    h("h3", {}, "Credit notes"),
    table("Credit notes", [{ label: "Number", value: (n) => n.number }, { label: "Issued", value: (n) => when(n.issued_at) },
      { label: "Reason", value: (n) => n.reason || "" }, { label: "Amount", value: (n) => money(n.amount, n.currency), num: true },
      { label: "PDF", value: (n) => pdf(`credit-notes/${encodeURIComponent(n.number)}.pdf`, n.number) }],
    invoice.credit_notes, "No credit note."),
  ];
}

// The moves are orders' rule: the staff read lists those allowed now (`allowed_transitions`), and
// the API still refuses any other with its reason.
const IRREVERSIBLE = new Set(["cancelled"]);

function statusForm(order, ctx) {
  const moves = order.allowed_transitions || [];
  if (!moves.length) return h("p", { class: "muted", id: "no-moves" }, `A ${order.status} order moves no further.`);
  const el = form({
    id: "order-status-form", legend: "Change the status", submit: "Change status",
    fields: [{ name: "status", label: "New status", type: "select", value: moves[0], options: moves.map((x) => [x, x]) },
             { name: "tracking_number", label: "Tracking number", value: order.tracking_number || "" },
             { name: "note", label: "Note" }],
    onSubmit: async (values) => {
      if (values.status === "shipped" && order.tracking_number_required && !values.tracking_number) {
        throw new ApiError(400, { error: { code: "VALIDATION_ERROR", message: `A ${values.status} order needs its tracking number.`,
                                           details: { fields: { tracking_number: ["Required to ship"] } } } });
      }
      if (IRREVERSIBLE.has(values.status) && !(await confirmed({
        title: `Cancel order ${order.order_number}?`, confirm: "Cancel the order",
        message: "The order stops, its stock is released and what was paid is refunded. This cannot be undone." }))) return;
      const body = { status: values.status, expected_version: order.version || undefined };
      if (values.tracking_number && values.tracking_number !== order.tracking_number) body.tracking_number = values.tracking_number;
      if (values.note) body.note = values.note;
      await write(ctx, () => call("POST", `${V1}/orders/${order.id}/status`, { body }), (o) => `The order is ${o.status}.`);
    },
  });
  // The tracking number is asked for on shipping, and required where the storefront ships with one
  // (orders refuses the move without it too).
  const select = el.querySelector("select[name=status]");
  const tracking = el.querySelector("input[name=tracking_number]");
  const show = () => {
    const shipping = select.value === "shipped";
    tracking.closest(".field").hidden = !shipping && !order.tracking_number;
    tracking.required = shipping && Boolean(order.tracking_number_required);
  };
  select.addEventListener("change", show);
  show();
  return el;
}

function refundForm(order, picture, ctx) {
  let key = newKey();
  return form({
    id: "refund", legend: `Refund (up to ${money(picture.refundable, order.currency)})`, submit: "Refund",
    fields: [{ name: "amount", label: `Amount in ${order.currency}`, inputmode: "decimal", required: true },
             { name: "reason", label: "Reason", required: true }],
    onSubmit: async (values) => {
      if (!/^\d+(\.\d{1,2})?$/.test(values.amount) || Number(values.amount) <= 0) {
        throw new ApiError(400, { error: { code: "VALIDATION_ERROR", message: "The amount is a positive number of at most two decimals.",
                                           details: { fields: { amount: ["e.g. 12.50"] } } } });
      }
      if (!(await confirmed({
        title: `Refund ${money(values.amount, order.currency)}?`, confirm: `Refund ${money(values.amount, order.currency)}`,
        message: `${money(values.amount, order.currency)} of order ${order.order_number} goes back to the customer. This cannot be undone.` }))) return;
      // The form was built from this picture: payments refuses it if a refund came in between
      // (409 STALE_VERSION), and the console then shows the current picture instead.
      const body = { order_id: order.id, reason: values.reason, amount: values.amount, expected_refundable: picture.refundable };
      await write(ctx, () => call("POST", `${V1}/payments/refunds`, { body, headers: { "Idempotency-Key": key } }),
        (r) => `Refunded ${money(r.amount, r.currency)}; ${money(r.total_refunded, r.currency)} refunded in all.`);
      key = newKey();
    },
  });
}
