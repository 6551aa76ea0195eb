// Shipping zones and their methods (the merchandiser's): identity's /api/v1/staff/shipping-zones.
// The zones (of one storefront: ?storefront=), a new one, and each zone's page: its settings, its
// methods (add, edit, delete) and deleting it. Zones carry no version: an edit sends only its fields.
// Prices show in the zone's storefront's currency (the zone's `currency`).

import { call, get } from "./api.js";
import { pageServed, V1 } from "./kit.js";
import { confirmButton } from "./ops.js";
import { form, go, h, link, money, table, taxRateFields, taxRatesOf } from "./ui.js";

const BASE = `${V1}/staff/shipping-zones`;
const KINDS = [["flat", "Flat"], ["weight", "By weight (grams)"], ["subtotal", "By subtotal"]];
const INCLUSIVE = [["", "The storefront's"], ["true", "Prices include tax"], ["false", "Tax added to prices"]];
const SHIPPING_TAXED = [["", "When the zone taxes goods (rate above 0)"], ["true", "Taxed with the goods"],
                        ["false", "Not taxed"]];

const places = (text) => (text || "").split(/[\s,]+/).filter(Boolean).map((p) => p.toUpperCase());
const inclusiveText = (z) => (z.tax_inclusive === null ? "the storefront's" : z.tax_inclusive ? "yes" : "no");
const choice = (value) => (value === null || value === undefined ? "" : String(value));
const fromChoice = (value) => (value === "" ? null : value === "true");

// Tiers typed one a line as "min amount" ("0 5.00", "2000 9.50"); shown back the same way.
function rates(text) {
  return (text || "").split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const [min, amount] = line.split(/[\s=:;,]+/);
    return { min, amount: amount ?? "" };
  });
}
const ratesText = (m) => (m ? m.rates.map((r) => `${m.kind === "weight" ? Number(r.min) : r.min} ${r.amount}`).join("\n") : "");

function price(m, currency) {
  const base = m.kind === "flat" ? money(m.price, currency)
    : `by ${m.kind}: ${m.rates.map((r) => (m.kind === "weight" ? `from ${Number(r.min)} g ${money(r.amount, currency)}`
      : `from ${money(r.min, currency)} ${money(r.amount, currency)}`)).join(", ")}`;
  return m.free_over ? `${base}; free over ${money(m.free_over, currency)}` : base;
}

function zoneFields(z, storefront) {
  return [
    ...(z ? [] : [{ name: "storefront", label: "Storefront (slug)", required: true, value: storefront }]),
    { name: "name", label: "Name", required: true, value: z && z.name },
    { name: "countries", label: "Countries (ISO codes, comma-separated; * for every other)", value: z ? z.countries.join(", ") : "" },
    { name: "regions", label: "Regions (e.g. US-CA, comma-separated)", value: z ? z.regions.join(", ") : "" },
    { name: "tax_rate", label: "Tax rate (e.g. 0.0725; empty: the storefront's)", inputmode: "decimal", value: z && z.tax_rate },
    ...taxRateFields(z && z.tax_rates, () => "the storefront's, none where the zone's rate is 0"),
    { name: "tax_inclusive", label: "Tax inclusive", type: "select", options: INCLUSIVE,
      value: z ? choice(z.tax_inclusive) : "" },
    { name: "shipping_taxed", label: "Shipping taxed", type: "select", options: SHIPPING_TAXED,
      value: z ? choice(z.shipping_taxed) : "" }];
}

function zoneBody(values) {
  return { name: values.name, countries: places(values.countries), regions: places(values.regions),
           tax_rate: values.tax_rate || null,
           // No class rate of its own: the storefront's (null).
           tax_rates: Object.keys(taxRatesOf(values)).length ? taxRatesOf(values) : null,
           tax_inclusive: fromChoice(values.tax_inclusive), shipping_taxed: fromChoice(values.shipping_taxed) };
}

function methodFields(m, currency) {
  const unit = currency ? ` (${currency})` : "";
  return [
    { name: "name", label: "Method name", required: true, value: m && m.name },
    { name: "kind", label: "Kind", type: "select", options: KINDS, value: m ? m.kind : "flat" },
    { name: "price", label: `Price (flat)${unit}`, inputmode: "decimal", value: m && m.kind === "flat" ? m.price : "" },
    { name: "free_over", label: `Free over (subtotal${unit}; empty: never)`, inputmode: "decimal", value: m && m.free_over },
    { name: "rates", label: "Tiers by weight or subtotal, one a line: from amount (e.g. 0 5.00)", type: "textarea",
      rows: 4, value: ratesText(m) }];
}

function methodBody(values) {
  const tiered = values.kind !== "flat";
  return { name: values.name, kind: values.kind, free_over: values.free_over || null,
           ...(tiered ? { rates: rates(values.rates) } : { price: values.price || "0", rates: [] }) };
}

export async function shippingZones(root, ctx) {
  const [id, methodId] = ctx.args;
  if (id && methodId) return methodPage(root, ctx, id, methodId);
  if (id) return zonePage(root, ctx, id);
  if (!(await pageServed(root, "Shipping zones", BASE))) return;
  const storefront = ctx.query.storefront;
  const page = await get(BASE, { storefront });
  if (storefront) root.append(h("p", {}, `Storefront ${storefront}. `, link("#/shipping-zones", "Every storefront's zones")));
  root.append(table("Shipping zones", [
    { label: "Zone", value: (z) => link(`#/shipping-zones/${z.id}`, z.name) },
    { label: "Storefront", value: (z) => z.storefront },
    { label: "Countries", value: (z) => [...z.countries, ...z.regions].join(", ") },
    { label: "Tax rate", value: (z) => z.tax_rate ?? "the storefront's" },
    { label: "Tax inclusive", value: inclusiveText },
    { label: "Shipping taxed", value: (z) => (z.shipping_taxed === null || z.shipping_taxed === undefined
      ? "when the zone taxes goods" : z.shipping_taxed ? "yes" : "no") },
    { label: "Methods", value: (z) => z.methods.map((m) => `${m.name}: ${price(m, z.currency)}`).join("; ") || "not shipped to" }],
  page.results, "No shipping zones: one shipping charge and one tax rate everywhere."));
  root.append(form({
    id: "zone-new", legend: "New shipping zone", submit: "Create zone", fields: zoneFields(null, storefront || "default"),
    onSubmit: async (values) => {
      const created = await call("POST", BASE, { body: { storefront: values.storefront, ...zoneBody(values) } });
      await go(`#/shipping-zones/${created.id}`, ctx, `Shipping zone ${created.name} created.`);
    },
  }));
}

async function zonePage(root, ctx, id) {
  const zone = await get(`${BASE}/${encodeURIComponent(id)}`);
  const back = `#/shipping-zones?storefront=${encodeURIComponent(zone.storefront)}`;
  root.append(h("p", {}, link(back, "← Shipping zones")), h("h1", {}, `Shipping zone ${zone.name}`),
    h("p", {}, `On ${zone.storefront}: ${[...zone.countries, ...zone.regions].join(", ")}.`),
    h("p", { class: "actions" }, confirmButton("Delete zone", {
      title: `Delete the shipping zone ${zone.name}?`, confirm: "Delete it",
      message: "Its methods go with it: its addresses are no longer shipped to." }, async () => {
      await call("DELETE", `${BASE}/${zone.id}`);
      await go(back, ctx, `Shipping zone ${zone.name} deleted.`);
    }, { class: "secondary", id: "delete-zone" })));
  root.append(h("h2", {}, "Methods (the first is the default)"), table("Shipping methods", [
    { label: "Method", value: (m) => link(`#/shipping-zones/${zone.id}/${m.id}`, m.name) },
    { label: "Kind", value: (m) => m.kind }, { label: "Price", value: (m) => price(m, zone.currency) },
    { label: "", value: (m) => confirmButton(`Delete ${m.name}`, {
      title: `Delete the method ${m.name}?`, confirm: "Delete it",
      message: "Carts in this zone no longer offer it." }, async () => {
      await call("DELETE", `${BASE}/${zone.id}/methods/${m.id}`);
      await go(`#/shipping-zones/${zone.id}`, ctx, `Method ${m.name} deleted.`);
    }, { class: "secondary" }) }], zone.methods, "No methods: the zone is taxed but not shipped to."));
  root.append(form({
    id: "method-new", legend: "Add a method", submit: "Add method", fields: methodFields(null, zone.currency),
    onSubmit: async (values) => {
      const created = await call("POST", `${BASE}/${zone.id}/methods`, { body: methodBody(values) });
      await go(`#/shipping-zones/${zone.id}`, ctx, `Method ${created.name} added.`);
    },
  }));
  root.append(form({
    id: "zone-edit", legend: "Zone settings", submit: "Save zone", fields: zoneFields(zone),
    onSubmit: async (values) => {
      const saved = await call("PATCH", `${BASE}/${zone.id}`, { body: zoneBody(values) });
      await go(`#/shipping-zones/${zone.id}`, ctx, `Shipping zone ${saved.name} saved.`);
    },
  }));
}

async function methodPage(root, ctx, id, methodId) {
  const zone = await get(`${BASE}/${encodeURIComponent(id)}`);
  const method = zone.methods.find((m) => m.id === methodId);
  const back = `#/shipping-zones/${zone.id}`;
  root.append(h("p", {}, link(back, `← ${zone.name}`)));
  if (!method) {
    root.append(h("h1", {}, "Shipping method"), h("p", { class: "muted" }, "This zone has no such method (deleted?)."));
    return;
  }
  root.append(h("h1", {}, `Shipping method ${method.name}`), h("p", {}, `In ${zone.name} on ${zone.storefront}: ${price(method, zone.currency)}.`));
  root.append(form({
    id: "method-edit", legend: "Edit the method", submit: "Save method", fields: methodFields(method, zone.currency),
    onSubmit: async (values) => {
      const saved = await call("PATCH", `${BASE}/${zone.id}/methods/${method.id}`, { body: methodBody(values) });
      await go(back, ctx, `Method ${saved.name} saved.`);
    },
  }));
}
