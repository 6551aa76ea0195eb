// Exchanges (support's): delivered units come back for other goods. The form takes the units of each
// shipped line coming back, a product (or variant) going out with its quantity, and a reason;
// Preview asks orders for the credit of the lines, the new items priced at the order's storefront
// and the difference, changing nothing; Confirm opens the exchange, approved at once: the new items
// go out as an order of their own, and when the customer owes the difference the answer carries the
// payment link to pass on. The exchange is then received from the Returns section, whole.

import { call } from "./api.js";
import { V1, write } from "./kit.js";
import { actionButton, facts, form, h, money, table } from "./ui.js";

const SHIPPED = new Set(["physical", "print_tier"]);

export function exchangeForm(order, ctx) {
  const lines = order.items.filter((i) => SHIPPED.has(i.kind));
  const result = h("div", { id: "exchange-preview", "aria-live": "polite" });
  const bodyOf = (values) => ({
    items: lines.map((i) => ({ order_item_id: i.id, quantity: Number(values[`back-${i.id}`] || 0) })).filter((l) => l.quantity > 0),
    new_items: [{ product_id: values.out_product_id.trim(), variant_id: values.out_variant_id.trim() || null,
                  quantity: Number(values.out_quantity) }],
    reason: values.reason });
  const el = form({
    id: "open-exchange", legend: "Exchange (units back, other goods out)", submit: "Preview",
    fields: [...lines.map((i) => ({ name: `back-${i.id}`, label: `Back: ${i.name} (${i.sku}), of ${i.quantity}`, type: "number",
                                    min: 0, max: i.quantity, value: "0", inputmode: "numeric" })),
             { name: "out_product_id", label: "Out: product id", required: true },
             { name: "out_variant_id", label: "Its variant id", hint: "Empty: the product itself" },
             { name: "out_quantity", label: "Quantity out", type: "number", min: 1, value: "1", inputmode: "numeric" },
             { name: "reason", label: "Reason for the exchange", required: true }],
    onSubmit: async (values) => {
      const body = bodyOf(values);
      const preview = await call("POST", `${V1}/staff/orders/${order.id}/exchanges/preview`, { body });
      result.replaceChildren(...previewOf(preview), h("div", { class: "actions" }, actionButton("Confirm the exchange",
        () => write(ctx, () => call("POST", `${V1}/staff/orders/${order.id}/exchanges`, { body }),
                    (r) => (r.payment_url
                      ? `Exchange ${r.number} opened: the customer pays the difference at ${r.payment_url}`
                      : `Exchange ${r.number} opened: the new items go out once their stock is held.`)),
        { id: "confirm-exchange" })));
    },
  });
  el.append(result);
  return el;
}

function previewOf(p) {
  const m = (v) => money(v, p.currency);
  return [
    table("Coming back", [
      { label: "Item", value: (l) => `${l.name} (${l.sku})` }, { label: "Quantity", value: (l) => String(l.quantity), num: true },
      { label: "Credit", value: (l) => m(l.amount), num: true }], p.lines_back),
    table("Going out", [
      { label: "Item", value: (l) => `${l.name} (${l.sku})` }, { label: "Quantity", value: (l) => String(l.quantity), num: true },
      { label: "Tax", value: (l) => m(l.tax_amount), num: true }, { label: "Line total", value: (l) => m(l.line_total), num: true }],
      p.new_items),
    facts([["Credit", h("span", { id: "exchange-credit" }, m(p.credit))],
           ["New items", h("span", { id: "exchange-new-total" }, m(p.new_items_total))],
           ["Difference", m(p.difference)], ["Customer pays", h("span", { id: "exchange-due" }, m(p.amount_due))],
           ["Refund", h("span", { id: "exchange-refund" }, m(p.refund))]])];
}
