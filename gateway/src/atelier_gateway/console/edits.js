// Order edits (support's and finance's): an order that has not shipped changes its quantities or
// gains a catalog line. The form takes each line's new quantity, a product (or variant) to add and a
// reason; Preview asks orders for the order as it would be (re-priced by the same rules, its
// promotions judged again), the refund and the amount due, changing nothing; Confirm applies the
// same edit (one that adds units waits for catalog to hold them: pending; one that raises a paid
// order's total then waits for the customer to pay the difference through a mailed link:
// awaiting_payment). The versions kept are listed above the form, with their status and the amount
// due with the state of its payment link (waiting until, paid, refused).

import { call, get, hasRole } from "./api.js";
import { V1, write } from "./kit.js";
import { actionButton, facts, form, h, money, table, when } from "./ui.js";

const EDITABLE = new Set(["awaiting_payment", "paid", "processing"]);
const PAID = new Set(["paid", "processing"]);

// What an edit left due and where its payment stands.
function dueOf(e) {
  if (Number(e.amount_due) <= 0) return "—";
  const due = money(e.amount_due, e.currency);
  if (e.status === "awaiting_payment") {
    return h("span", { class: "edit-due" }, `${due} due until ${when(e.expires_at)}: `,
             h("a", { href: e.payment_url, class: "edit-payment-link" }, "payment link sent"));
  }
  if (e.paid_at) return `${due} paid ${when(e.paid_at)}`;
  return `${due} not paid`;
}

const changeText = (c) => `${c.name} (${c.sku}) ${c.old_quantity} → ${c.new_quantity}`;

// The order page's section: the order's versions, and the edit form while it has not shipped.
export async function editsOf(order, ctx) {
  const versions = await get(`${V1}/staff/orders/${order.id}/edits`);
  const out = [table("Versions", [
    { label: "Version", value: (e) => `v${e.version}` }, { label: "When", value: (e) => when(e.created_at) },
    { label: "Changes", value: (e) => e.changes.map(changeText).join("; ") }, { label: "Reason", value: (e) => e.reason },
    { label: "Status", value: (e) => (e.note ? `${e.status}: ${e.note}` : e.status) },
    { label: "Total", value: (e) => `${money(e.old_total, e.currency)} → ${money(e.new_total, e.currency)}` },
    { label: "Refund", value: (e) => money(e.refund_amount, e.currency) + (e.refunded_at ? " (refunded)" : ""), num: true },
    { label: "Amount due", value: dueOf }],
    versions, "Never edited.")];
  if (!hasRole("support", "finance") || !EDITABLE.has(order.status)) return out;
  out.push(editForm(order, ctx));
  return out;
}

function editForm(order, ctx) {
  const lines = order.items.filter((i) => i.kind === "physical");
  const result = h("div", { id: "edit-preview", "aria-live": "polite" });
  const changes = (values) => lines.map((i) => ({ order_item_id: i.id, quantity: Number(values[`edit-${i.id}`]) }))
    .filter((c, n) => c.quantity !== lines[n].quantity);
  const additions = (values) => (values.add_product_id.trim()
    ? [{ product_id: values.add_product_id.trim(), variant_id: values.add_variant_id.trim() || null,
         quantity: Number(values.add_quantity) }] : []);
  const el = form({
    id: "edit-order", legend: "Edit the order (change quantities, add a product)", submit: "Preview",
    fields: [...lines.map((i) => ({ name: `edit-${i.id}`, label: `${i.name} (${i.sku}), now ${i.quantity}`, type: "number",
                                    min: 0, value: String(i.quantity), inputmode: "numeric" })),
             { name: "add_product_id", label: "Add a product (product id)", hint: "Empty: add nothing" },
             { name: "add_variant_id", label: "Its variant id", hint: "Empty: the product itself" },
             { name: "add_quantity", label: "Quantity to add", type: "number", min: 1, value: "1", inputmode: "numeric" },
             { name: "reason", label: "Reason for the edit", required: true }],
    onSubmit: async (values) => {
      const body = { changes: changes(values), additions: additions(values), reason: values.reason };
      const preview = await call("POST", `${V1}/staff/orders/${order.id}/edits/preview`, { body });
      const due = Number(preview.amount_due) > 0 && PAID.has(order.status);
      result.replaceChildren(...previewOf(preview), ...(due
        ? [h("p", { id: "edit-payment-note" }, `Once confirmed, the customer is mailed a link that pays ${money(preview.amount_due, preview.currency)}; the edit applies when it is paid.`)]
        : []), h("div", { class: "actions" }, actionButton("Confirm the edit",
          () => write(ctx, () => call("POST", `${V1}/staff/orders/${order.id}/edits`, { body }), confirmedText),
          { id: "confirm-edit" })));
    },
  });
  el.append(result);
  return el;
}

function confirmedText(r) {
  const total = money(r.total, r.currency);
  if (r.edit.status === "pending") {
    return Number(r.amount_due) > 0
      ? `Edit v${r.edit.version} waits for the stock, then for the customer's payment of ${money(r.amount_due, r.currency)}.`
      : `Edit v${r.edit.version} waits for the stock: total ${total} once held.`;
  }
  if (r.edit.status === "awaiting_payment") {
    return `Edit v${r.edit.version} waits for the customer's payment of ${money(r.amount_due, r.currency)} (payment link sent).`;
  }
  return `Order edited (v${r.edit.version}): total ${total}, refund ${money(r.refund, r.currency)}.`;
}

function previewOf(p) {
  const m = (v) => money(v, p.currency);
  return [
    table("The order after the edit", [
      { label: "Item", value: (l) => `${l.name} (${l.sku})` },
      { label: "Quantity", value: (l) => `${l.old_quantity} → ${l.new_quantity}` },
      { label: "Discount", value: (l) => m(l.discount_amount), num: true },
      { label: "Line total", value: (l) => m(l.line_total), num: true }], p.lines),
    facts([["Subtotal", m(p.subtotal)], ["Discount", m(p.discount)], ["Shipping", m(p.shipping_cost)], ["Tax", m(p.tax_amount)],
           ["New total", h("span", { id: "edit-new-total" }, m(p.total))], ["Old total", m(p.old_total)],
           ["Difference", m(p.difference)], ["Refund", h("span", { id: "edit-refund" }, m(p.refund))],
           ["Amount due", h("span", { id: "edit-amount-due" }, m(p.amount_due))],
           ...(p.promotions_lost.length ? [["No longer applies", p.promotions_lost.map((x) => x.name).join(", ")]] : [])])];
}
