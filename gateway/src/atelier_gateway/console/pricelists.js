// Price lists (the merchandiser's): a customer group's prices on a storefront, in one currency,
// from catalog's /api/v1/staff/price-lists. The list of lists, a new one, and each one's page:
// its name and activity, its prices (set one, remove one) and deleting it. Every edit sends the
// version the page was built from: one made meanwhile by someone else is shown, not overwritten.

import { call, get } from "./api.js";
import { pageServed, V1, write } from "./kit.js";
import { actionButton, form, go, h, link, money, table } from "./ui.js";

const BASE = `${V1}/staff/price-lists`;

export async function priceLists(root, ctx) {
  const [id] = ctx.args;
  if (id) return priceListPage(root, ctx, id);
  if (!(await pageServed(root, "Price lists", BASE))) return;
  const page = await get(BASE, { storefront: ctx.query.storefront });
  root.append(table("Price lists", [
    { label: "Name", value: (l) => link(`#/price-lists/${l.id}`, l.name) },
    { label: "Storefront", value: (l) => l.storefront }, { label: "Currency", value: (l) => l.currency },
    { label: "Customer group", value: (l) => l.customer_group },
    { label: "Active", value: (l) => (l.is_active ? "yes" : "no") },
    { label: "Prices", value: (l) => String(l.prices.length), num: true }], page.results, "No price lists yet."));
  root.append(form({
    id: "price-list-new", legend: "New price list", submit: "Create price list",
    fields: [{ name: "name", label: "Name", required: true, placeholder: "e.g. Business" },
             { name: "storefront", label: "Storefront (slug)", required: true, value: ctx.query.storefront },
             { name: "currency", label: "Currency", required: true, value: "USD" },
             { name: "customer_group", label: "Customer group (its code: Customer groups page)", required: true, value: "business" },
             { name: "is_active", label: "Active", type: "checkbox", checked: true }],
    onSubmit: async (values) => {
      const created = await call("POST", BASE, { body: { ...values, currency: values.currency.toUpperCase() } });
      await go(`#/price-lists/${created.id}`, ctx, `Price list ${created.name} created.`);
    },
  }));
}

// The product a staffer names by id, number, slug or SKU-as-slug (catalog's GET /products/{ref}).
async function productOf(ref) {
  return get(`${V1}/products/${encodeURIComponent(ref)}`, { include_inactive: "true" });
}

async function priceListPage(root, ctx, id) {
  const list = await get(`${BASE}/${encodeURIComponent(id)}`);
  root.append(h("p", {}, link("#/price-lists", "← Price lists")), h("h1", {}, `Price list ${list.name}`),
    h("p", {}, `${list.customer_group} customers on ${list.storefront}, in ${list.currency}. `
      + (list.is_active ? "Active: they pay these prices." : "Inactive: nobody pays these prices.")));
  const edit = (body) => call("PATCH", `${BASE}/${list.id}`, { body: { ...body, expected_version: list.version } });
  const entries = list.prices.map((p) => ({ product_id: p.product_id, variant_id: p.variant_id, price: p.price }));
  const products = new Map(await Promise.all([...new Set(entries.map((e) => e.product_id))].map(
    async (pid) => [pid, await productOf(pid).catch(() => null)])));
  root.append(h("p", { class: "actions" },
    actionButton(list.is_active ? "Deactivate" : "Activate", () => write(ctx, () => edit({ is_active: !list.is_active }),
      (l) => `Price list ${l.name} is ${l.is_active ? "active" : "inactive"}.`)),
    actionButton("Delete price list", async () => {
      if (!window.confirm(`Delete the price list ${list.name}?`)) return;
      await call("DELETE", `${BASE}/${list.id}`, { headers: { "If-Match": list.version } });
      await go("#/price-lists", ctx, `Price list ${list.name} deleted.`);
    })));
  root.append(h("h2", {}, "Prices"), table("Prices", [
    { label: "Product", value: (e) => { const p = products.get(e.product_id); return p ? link(`#/catalog/${p.id}`, p.name) : e.product_id; } },
    { label: "Variant", value: (e) => {
      const p = products.get(e.product_id);
      const v = p && e.variant_id ? p.variants.find((x) => x.id === e.variant_id) : null;
      return e.variant_id ? (v ? v.name : e.variant_id) : "—";
    } },
    { label: "Catalog price", value: (e) => { const p = products.get(e.product_id); return p ? money(p.price, p.currency) : "—"; }, num: true },
    { label: "List price", value: (e) => money(e.price, list.currency), num: true },
    { label: "", value: (e) => actionButton("Remove", () => write(ctx, () => edit({ prices: entries.filter((x) => x !== e) }),
      () => "Price removed.")) }], entries, "No prices yet: add one below."));
  root.append(form({
    id: "price-list-price", legend: "Set a price", submit: "Set price",
    fields: [{ name: "product", label: "Product (id, number or slug)", required: true },
             { name: "variant", label: "Variant SKU (empty: the product)" },
             { name: "price", label: `Price (${list.currency})`, required: true, inputmode: "decimal" }],
    onSubmit: async (values) => {
      const product = await productOf(values.product);
      const variant = values.variant ? product.variants.find((v) => v.sku.toLowerCase() === values.variant.toLowerCase()) : null;
      if (values.variant && !variant) throw new Error(`${product.name} has no variant ${values.variant}.`);
      const variantId = variant ? variant.id : null;
      const prices = [...entries.filter((e) => !(e.product_id === product.id && e.variant_id === variantId)),
                      { product_id: product.id, variant_id: variantId, price: values.price }];
      await write(ctx, () => edit({ prices }), () => `${product.name}${variant ? ` ${variant.name}` : ""} costs ${values.price} ${list.currency} on this list.`);
    },
  }));
  root.append(form({
    id: "price-list-settings", legend: "Settings", submit: "Save",
    fields: [{ name: "name", label: "Name", required: true, value: list.name }],
    onSubmit: async (values) => write(ctx, () => edit({ name: values.name }), (l) => `Price list ${l.name} saved.`),
  }));
}
