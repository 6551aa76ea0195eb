// Draft orders (support's): orders' /api/v1/staff/draft-orders. Staff take an order for a customer
// (an account, or a new e-mail): lines from the catalog at its price or a custom one with the reason,
// a discount code or a manual discount with its reason, where it ships and how; the preview is what
// the customer will be charged (orders prices it as it prices every order). Sending makes it an
// order awaiting payment and mails the customer the link that pays it. Every write carries the
// version the page was read at: a draft changed meanwhile is shown again, not overwritten.

import { call, get } from "./api.js";
import { filterForm, PAGE_SIZE, pageServed, results, V1, write } from "./kit.js";
import { confirmButton } from "./ops.js";
import { actionButton, facts, form, go, h, link, money, table, when } from "./ui.js";

const URL_ = `${V1}/staff/draft-orders`;
const STATES = [["", "Any"], ["open", "Open"], ["sent", "Sent"]];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Who the draft is for: an account id as typed, else the account with that e-mail, else the e-mail
// alone (a customer without an account pays through the mailed link).
async function customerOf(value) {
  const typed = value.trim();
  if (UUID.test(typed)) return { user_id: typed };
  const found = await get(`${V1}/staff/customers`, { q: typed, limit: 5 });
  const account = found.results.find((c) => (c.email || "").toLowerCase() === typed.toLowerCase());
  return account ? { user_id: account.id, email: account.email } : { email: typed };
}

export async function draftOrders(root, ctx) {
  const [id] = ctx.args;
  if (id) return draftPage(root, ctx, id);
  if (!(await pageServed(root, "Draft orders", URL_))) return;
  const q = ctx.query;
  root.append(filterForm(ctx, "draft-orders", {
    id: "draft-filter", legend: "Draft orders", submit: "Show",
    fields: [{ name: "storefront", label: "Storefront", value: q.storefront },
             { name: "status", label: "State", type: "select", value: q.status, options: STATES }],
  }));
  const page = await get(URL_, { storefront: q.storefront, status: q.status, limit: PAGE_SIZE, offset: q.offset });
  results(root, "Draft orders", page, [
    { label: "Customer", value: (d) => link(`#/draft-orders/${d.id}`, d.email || d.user_id) },
    { label: "Storefront", value: (d) => d.storefront }, { label: "Lines", value: (d) => String(d.lines), num: true },
    { label: "State", value: (d) => d.status },
    { label: "Order", value: (d) => (d.order_id ? link(`#/orders/${d.order_id}`, d.order_number) : "—") },
    { label: "Changed", value: (d) => when(d.updated_at) },
  ], ctx, "draft-orders");
  root.append(form({
    id: "draft-new", legend: "New draft order", submit: "Start draft",
    fields: [{ name: "customer", label: "Customer (e-mail or account id)", required: true,
               hint: "An e-mail without an account: the customer pays through the mailed link." },
             { name: "storefront", label: "Storefront", placeholder: "e.g. default", hint: "Empty: default" },
             { name: "customer_group", label: "Price at customer group (code)", hint: "Empty: list prices" },
             { name: "buyer_tax_number", label: "Buyer's tax number" },
             { name: "note", label: "Note" }],
    onSubmit: async (values) => {
      const made = await call("POST", URL_, { body: {
        ...(await customerOf(values.customer)), storefront: values.storefront || "default",
        customer_group: values.customer_group || null, buyer_tax_number: values.buyer_tax_number || null,
        note: values.note || null } });
      await go(`#/draft-orders/${made.id}`, ctx, "Draft order started.");
    },
  }));
}

function linesTable(d, ctx, edit) {
  const currency = d.preview ? d.preview.currency : "";
  return table("Lines", [
    { label: "Product", value: (l) => `${l.name || l.product_id}${l.variant_name ? ` (${l.variant_name})` : ""}` },
    { label: "SKU", value: (l) => l.sku || "—" }, { label: "Quantity", value: (l) => String(l.quantity), num: true },
    { label: "Catalog price", value: (l) => money(l.catalog_price, currency), num: true },
    { label: "Unit price", value: (l) => (l.custom_price ? h("span", { title: l.price_reason }, `${money(l.unit_price, currency)} (custom: ${l.price_reason})`)
                                                          : money(l.unit_price, currency)), num: true },
    { label: "Discount", value: (l) => money(l.discount, currency), num: true },
    { label: "Tax", value: (l) => money(l.tax_amount, currency), num: true },
    { label: "Line total", value: (l) => money(l.line_total, currency), num: true },
    ...(edit ? [{ label: "Remove", value: (l) => actionButton("Remove", () => write(ctx,
      () => call("DELETE", `${URL_}/${d.id}/lines/${l.id}`, { headers: { "If-Match": d.version } }), () => "Line removed."),
    { class: "secondary", "aria-label": `Remove ${l.name || l.product_id}` }) }] : []),
  ], d.lines, "No lines yet.");
}

function preview(d) {
  if (!d.preview) {
    return h("p", { id: "draft-problem", class: "muted" },
      d.problem ? `Cannot be priced yet: ${d.problem.code}: ${d.problem.message}` : "Nothing to price.");
  }
  const p = d.preview;
  return h("div", { id: "draft-preview" }, facts([
    ["Subtotal", money(p.subtotal, p.currency)],
    ["Discount", money(p.discount, p.currency)],
    ["Discounts", p.discounts.map((x) => `${x.name}: ${money(x.amount, p.currency)}`).join("; ") || "none"],
    ["Shipping", `${money(p.shipping_cost, p.currency)}${p.shipping_method_name ? ` (${p.shipping_method_name})` : ""}`],
    ["Tax", `${money(p.tax_amount, p.currency)}${Number(p.tax_included) ? ` (${money(p.tax_included, p.currency)} included)` : ""}`],
    ["Total the customer pays", h("strong", { id: "draft-total" }, money(p.total_amount, p.currency))],
  ]));
}

async function draftPage(root, ctx, id) {
  const d = await get(`${URL_}/${encodeURIComponent(id)}`);
  const open = d.status === "open";
  const patch = (body, done) => write(ctx, () => call("PATCH", `${URL_}/${d.id}`, { body, headers: { "If-Match": d.version } }), done);
  root.append(h("p", {}, link("#/draft-orders", "← Draft orders")), h("h1", {}, `Draft order for ${d.email || d.user_id}`));
  root.append(facts([["State", h("span", { id: "draft-state" }, d.status)], ["Storefront", d.storefront],
    ["Customer", d.user_id ? link(`#/customers/${d.user_id}`, d.email || d.user_id) : `${d.email} (no account)`],
    ["Priced at group", d.customer_group || "list prices"], ["Buyer's tax number", d.buyer_tax_number],
    ["Note", d.note], ["Order", d.order_id ? link(`#/orders/${d.order_id}`, d.order_number) : "not sent"],
    ["Created", when(d.created_at)], ["Changed", when(d.updated_at)]]));
  root.append(h("section", { "aria-label": "Lines" }, h("h2", {}, "Lines"), linesTable(d, ctx, open)));
  if (open) root.append(h("section", { "aria-label": "Preview" }, h("h2", {}, "Preview"), preview(d)));
  if (!open) return;
  root.append(h("div", { class: "actions" }, confirmButton("Send to the customer", {
    title: "Send this draft order?", confirm: "Send it",
    message: "It becomes an order awaiting payment (its stock is reserved) and the customer is mailed the link that pays it." },
  async () => {
    const sent = await call("POST", `${URL_}/${d.id}/send`, { body: {} });
    await go(`#/draft-orders/${d.id}`, ctx, `Sent: order ${sent.order_number}, ${money(sent.total_amount, sent.currency)} to pay.`);
  })));
  root.append(form({
    id: "draft-line", legend: "Add a line", submit: "Add line",
    fields: [{ name: "product_id", label: "Product id", required: true },
             { name: "variant_id", label: "Variant id", hint: "Empty: the product itself" },
             { name: "quantity", label: "Quantity", type: "number", min: 1, value: 1, required: true },
             { name: "unit_price", label: "Custom unit price", inputmode: "decimal", hint: "Empty: catalog's price" },
             { name: "price_reason", label: "Why this price", hint: "Required with a custom price (audited)" }],
    onSubmit: async (values) => write(ctx, () => call("POST", `${URL_}/${d.id}/lines`, { headers: { "If-Match": d.version }, body: {
      product_id: values.product_id.trim(), variant_id: values.variant_id.trim() || null, quantity: Number(values.quantity),
      unit_price: values.unit_price || null, price_reason: values.price_reason || null } }), () => "Line added."),
  }));
  if (d.lines.length) {
    root.append(form({
      id: "draft-line-edit", legend: "Change a line", submit: "Change line",
      fields: [{ name: "line", label: "Line", type: "select", required: true,
                 options: d.lines.map((l) => [l.id, `${l.name || l.product_id} × ${l.quantity}`]) },
               { name: "quantity", label: "Quantity", type: "number", min: 1, hint: "Empty: unchanged" },
               { name: "unit_price", label: "Custom unit price", inputmode: "decimal", hint: "Empty: unchanged" },
               { name: "price_reason", label: "Why this price", hint: "Required with a custom price (audited)" },
               { name: "catalog_price", label: "Back to catalog's price", type: "checkbox" }],
      onSubmit: async (values) => write(ctx, () => call("PATCH", `${URL_}/${d.id}/lines/${values.line}`, {
        headers: { "If-Match": d.version }, body: {
          quantity: values.quantity ? Number(values.quantity) : null, unit_price: values.unit_price || null,
          price_reason: values.price_reason || null, catalog_price: values.catalog_price } }), () => "Line changed."),
    }));
  }
  root.append(form({
    id: "draft-discount", legend: "Discount", submit: "Save discount",
    fields: [{ name: "promotion_code", label: "Discount code", value: d.promotion_code },
             { name: "manual_discount", label: "Manual discount (amount)", inputmode: "decimal",
               value: Number(d.manual_discount) ? d.manual_discount : "", hint: "Empty: none" },
             { name: "manual_discount_reason", label: "Why this discount", value: d.manual_discount_reason,
               hint: "Required with a manual discount (audited)" }],
    onSubmit: async (values) => patch({ promotion_code: values.promotion_code || null,
      manual_discount: values.manual_discount || "0", manual_discount_reason: values.manual_discount_reason || null },
    () => "Discount saved."),
  }));
  const a = d.shipping_address || {};
  root.append(form({
    id: "draft-shipping", legend: "Shipping", submit: "Save shipping",
    fields: [{ name: "full_name", label: "Name", required: true, value: a.full_name },
             { name: "company", label: "Company", value: a.company },
             { name: "street_address", label: "Street address", required: true, value: a.street_address },
             { name: "city", label: "City", required: true, value: a.city },
             { name: "postal_code", label: "Postal code", value: a.postal_code },
             { name: "state", label: "State or region", value: a.state },
             { name: "country", label: "Country (two letters)", required: true, value: a.country, placeholder: "e.g. US" },
             { name: "phone", label: "Phone", value: a.phone },
             { name: "shipping_method", label: "Shipping method (code or id)", value: d.shipping_method,
               hint: "Empty: the zone's first" }],
    onSubmit: async (values) => {
      const { shipping_method: method, ...address } = values;
      const typed = Object.fromEntries(Object.entries(address).filter(([, v]) => v));
      await patch({ shipping_address: typed, shipping_method: method || null }, () => "Shipping saved.");
    },
  }));
}
