// Stock locations (the merchandiser's), from catalog's /api/v1/staff/locations: the list, a new
// one, a product's units per location, a transfer between two, and each location's page (where
// it ships, its priority, active or not; delete an empty one). Orders take from the locations
// that ship to their country, lowest priority first.

import { call, get } from "./api.js";
import { pageServed, V1, write } from "./kit.js";
import { actionButton, form, go, h, link, table } from "./ui.js";

const BASE = `${V1}/staff/locations`;
const KINDS = [["warehouse", "Warehouse"], ["shop", "Shop"], ["drop_ship", "Drop-ship"]];

const countries = (text) => text.split(/[\s,]+/).filter(Boolean).map((c) => c.toUpperCase());
const shipsTo = (l) => (l.ships_to.length ? l.ships_to.join(", ") : "everywhere");
const storefrontOf = (l) => l.storefront || "every storefront";

export async function locations(root, ctx) {
  const [id] = ctx.args;
  if (id) return locationPage(root, ctx, id);
  if (!(await pageServed(root, "Stock locations", BASE))) return;
  const page = await get(BASE, { storefront: ctx.query.storefront });
  root.append(table("Stock locations", [
    { label: "Name", value: (l) => link(`#/locations/${l.id}`, l.name) },
    { label: "Kind", value: (l) => l.kind }, { label: "Storefront", value: storefrontOf },
    { label: "Ships to", value: shipsTo }, { label: "Priority", value: (l) => String(l.priority), num: true },
    { label: "Active", value: (l) => (l.is_active ? "yes" : "no") }], page.results, "No locations."));
  root.append(form({
    id: "location-new", legend: "New location", submit: "Create location",
    fields: [{ name: "name", label: "Name", required: true, placeholder: "e.g. Lyon warehouse" },
             { name: "kind", label: "Kind", type: "select", value: "warehouse", options: KINDS },
             { name: "storefront", label: "Storefront (slug; empty: the current one)", value: ctx.query.storefront },
             { name: "country", label: "Country it is in", placeholder: "e.g. FR" },
             { name: "ships_to", label: "Ships to (countries; empty: everywhere)", placeholder: "e.g. FR BE" },
             { name: "priority", label: "Priority (lowest first)", value: "100", inputmode: "numeric" }],
    onSubmit: async (values) => {
      const created = await call("POST", BASE, { body: {
        name: values.name, kind: values.kind, ...(values.storefront ? { storefront: values.storefront } : {}),
        country: values.country || null, ships_to: countries(values.ships_to), priority: Number(values.priority) } });
      await go(`#/locations/${created.id}`, ctx, `Location ${created.name} created.`);
    },
  }));
  const names = new Map(page.results.map((l) => [l.id, l.name]));
  const shown = h("div", { id: "location-stock" });
  root.append(h("h2", {}, "A product's stock"), form({
    id: "location-stock-form", legend: "Stock per location", submit: "Show",
    fields: [{ name: "product", label: "Product to show (id, number or slug)", required: true }],
    onSubmit: async (values) => {
      const stock = await get(`${BASE}/stock/${encodeURIComponent(values.product)}`);
      shown.replaceChildren(...stock.items.map((item) => table(`Stock of ${item.sku}`, [
        { label: "Location", value: (u) => u.name || names.get(u.location_id) || u.location_id },
        { label: "Units", value: (u) => String(u.quantity), num: true }], item.locations,
        `No units of ${item.sku} anywhere.`)));
    },
  }), shown);
  const options = page.results.map((l) => [l.id, l.name]);
  root.append(form({
    id: "stock-transfer", legend: "Move stock between locations", submit: "Move",
    fields: [{ name: "product", label: "Product to move (id, number or slug)", required: true },
             { name: "variant", label: "Variant SKU (empty: the product)" },
             { name: "from", label: "From", type: "select", options, value: options[0]?.[0] },
             { name: "to", label: "To", type: "select", options, value: options[1]?.[0] },
             { name: "quantity", label: "Units", required: true, inputmode: "numeric" },
             { name: "reason", label: "Reason", required: true, placeholder: "e.g. stock the shop" }],
    onSubmit: async (values) => {
      const product = await get(`${V1}/products/${encodeURIComponent(values.product)}`, { include_inactive: "true" });
      const variant = values.variant ? product.variants.find((v) => v.sku.toLowerCase() === values.variant.toLowerCase()) : null;
      if (values.variant && !variant) throw new Error(`${product.name} has no variant ${values.variant}.`);
      await write(ctx, () => call("POST", `${V1}/staff/stock-transfers`, { body: {
        product: product.id, variant_id: variant ? variant.id : null, from_location_id: values.from,
        to_location_id: values.to, quantity: Number(values.quantity), reason: values.reason } }),
        (moved) => `${moved.quantity} moved: ${names.get(values.from)} holds ${moved.from_quantity}, ${names.get(values.to)} ${moved.to_quantity}.`);
    },
  }));
}

async function locationPage(root, ctx, id) {
  const location = await get(`${BASE}/${encodeURIComponent(id)}`);
  root.append(h("p", {}, link("#/locations", "← Stock locations")), h("h1", {}, `Location ${location.name}`),
    h("p", {}, `A ${location.kind} of ${storefrontOf(location)}, shipping to ${shipsTo(location)}, priority ${location.priority}. `
      + (location.is_active ? "Active: orders take from it." : "Inactive: no order takes from it.")));
  const edit = (body) => call("PATCH", `${BASE}/${location.id}`, { body });
  root.append(h("p", { class: "actions" },
    actionButton(location.is_active ? "Deactivate" : "Activate", () => write(ctx, () => edit({ is_active: !location.is_active }),
      (l) => `Location ${l.name} is ${l.is_active ? "active" : "inactive"}.`)),
    location.is_default ? null : actionButton("Delete location", async () => {
      if (!window.confirm(`Delete the location ${location.name}?`)) return;
      await call("DELETE", `${BASE}/${location.id}`);
      await go("#/locations", ctx, `Location ${location.name} deleted.`);
    }, { class: "secondary" })));
  root.append(form({
    id: "location-settings", legend: "Settings", submit: "Save",
    fields: [{ name: "name", label: "Name", required: true, value: location.name },
             { name: "kind", label: "Kind", type: "select", value: location.kind, options: KINDS },
             { name: "country", label: "Country it is in", value: location.country || "" },
             { name: "ships_to", label: "Ships to (countries; empty: everywhere)", value: location.ships_to.join(" ") },
             { name: "priority", label: "Priority (lowest first)", required: true, value: String(location.priority),
               inputmode: "numeric" }],
    onSubmit: async (values) => write(ctx, () => edit({
      name: values.name, kind: values.kind, country: values.country || null, ships_to: countries(values.ships_to),
      priority: Number(values.priority) }), (l) => `Location ${l.name} saved.`),
  }));
}
