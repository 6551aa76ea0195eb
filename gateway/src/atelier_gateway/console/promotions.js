// Promotions and discount codes (the merchandiser's): orders' /api/v1/staff/promotions. The
// list with each promotion's uses, a new one, and one promotion's page to edit (sent with the
// version it was read at: a promotion changed meanwhile is shown again, not overwritten) or to
// deactivate.

import { call, get } from "./api.js";
import { confirmButton } from "./ops.js";
import { filterForm, PAGE_SIZE, pageServed, results, V1, write } from "./kit.js";
import { announce, facts, form, go, h, link, money, when } from "./ui.js";

const URL_ = `${V1}/staff/promotions`;
const KINDS = [["percentage", "Percentage"], ["fixed", "Fixed amount"], ["free_shipping", "Free shipping"]];
const KIND_LABELS = new Map(KINDS);
const STATES = [["", "Any"], ["true", "Active"], ["false", "Inactive"]];

function saving(p) {
  if (p.kind === "percentage") return `${p.value}%`;
  if (p.kind === "fixed") return money(p.value);
  return "free shipping";
}

function uses(p) { return p.usage_limit === null ? String(p.uses) : `${p.uses} / ${p.usage_limit}`; }

// A `datetime-local` value (the staffer's local time) as the API's instant, and back.
function instant(local) { return local ? new Date(local).toISOString() : null; }
function local(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function ids(text) { return (text || "").split(/[\s,]+/).filter(Boolean); }

function fields(p) {
  return [
    { name: "name", label: "Name", required: true, value: p && p.name },
    { name: "code", label: "Code (empty: applied automatically)", value: p && p.code },
    { name: "kind", label: "Kind", type: "select", value: p ? p.kind : "percentage", options: KINDS },
    { name: "value", label: "Value (percent, or amount)", inputmode: "decimal", value: p ? p.value : "" },
    { name: "min_subtotal", label: "Minimum subtotal", inputmode: "decimal", value: p && p.min_subtotal },
    { name: "product_ids", label: "Only these product ids", value: p ? p.product_ids.join(", ") : "" },
    { name: "category_ids", label: "Only these category ids", value: p ? p.category_ids.join(", ") : "" },
    { name: "customer_groups", label: "Only these customer groups (codes: Customer groups page; empty: everybody)",
      value: p ? p.customer_groups.join(", ") : "" },
    { name: "starts_at", label: "Starts", type: "datetime-local", value: local(p && p.starts_at) },
    { name: "ends_at", label: "Ends", type: "datetime-local", value: local(p && p.ends_at) },
    { name: "usage_limit", label: "Uses in all (empty: no limit)", type: "number", min: 1, value: p && p.usage_limit },
    { name: "usage_limit_per_customer", label: "Uses per customer", type: "number", min: 1,
      value: p && p.usage_limit_per_customer },
    { name: "combinable", label: "Combines with other promotions", type: "checkbox", checked: !!(p && p.combinable) },
  ];
}

function body(values) {
  const number = (v) => (v === "" ? null : Number(v));
  return {
    name: values.name, code: values.code || null, kind: values.kind,
    value: values.kind === "free_shipping" ? "0" : values.value || "0",
    min_subtotal: values.min_subtotal || null, product_ids: ids(values.product_ids),
    category_ids: ids(values.category_ids), customer_groups: ids(values.customer_groups),
    starts_at: instant(values.starts_at), ends_at: instant(values.ends_at),
    usage_limit: number(values.usage_limit), usage_limit_per_customer: number(values.usage_limit_per_customer),
    combinable: values.combinable,
  };
}

export async function promotions(root, ctx) {
  const [id] = ctx.args;
  if (id) return promotionPage(root, ctx, id);
  if (!(await pageServed(root, "Promotions", URL_))) return;
  const q = ctx.query;
  root.append(filterForm(ctx, "promotions", {
    id: "promotion-filter", legend: "Promotions", submit: "Show",
    fields: [{ name: "storefront", label: "Storefront", value: q.storefront },
             { name: "code", label: "Code", value: q.code },
             { name: "active", label: "State", type: "select", value: q.active, options: STATES }],
  }));
  const page = await get(URL_, { storefront: q.storefront, code: q.code, active: q.active, limit: PAGE_SIZE,
                                 offset: q.offset });
  results(root, "Promotions", page, [
    { label: "Name", value: (p) => link(`#/promotions/${p.id}`, p.name) },
    { label: "Code", value: (p) => p.code || "automatic" }, { label: "Storefront", value: (p) => p.storefront },
    { label: "Saves", value: saving }, { label: "For", value: (p) => p.customer_groups.join(", ") || "everybody" },
    { label: "Uses", value: uses, num: true },
    { label: "Dates", value: (p) => `${p.starts_at ? when(p.starts_at) : "now"} – ${p.ends_at ? when(p.ends_at) : "open"}` },
    { label: "State", value: (p) => (p.is_active ? "active" : "inactive") },
  ], ctx, "promotions");
  root.append(form({
    id: "promotion-new", legend: "New promotion", submit: "Create promotion",
    fields: [{ name: "storefront", label: "Storefront (empty: default)", value: "" }, ...fields(null)],
    onSubmit: async (values) => {
      const made = await call("POST", URL_, { body: { ...body(values), storefront: values.storefront || "default" } });
      await go(`#/promotions/${made.id}`, ctx, `Promotion ${made.name} created.`);
    },
  }));
}

async function promotionPage(root, ctx, id) {
  const p = await get(`${URL_}/${encodeURIComponent(id)}`);
  root.append(h("p", {}, link("#/promotions", "← Promotions")), h("h1", {}, `Promotion ${p.name}`));
  root.append(facts([["Code", p.code || "automatic"], ["Storefront", p.storefront], ["Kind", KIND_LABELS.get(p.kind)],
    ["Saves", saving(p)], ["For", p.customer_groups.join(", ") || "everybody"],
    ["Uses", h("span", { id: "promotion-uses" }, uses(p))],
    ["State", h("span", { id: "promotion-state" }, p.is_active ? "active" : "inactive")],
    ["Created", when(p.created_at)], ["Changed", when(p.updated_at)]]));
  if (p.is_active) {
    root.append(h("div", { class: "actions" }, confirmButton("Deactivate", {
      title: "Deactivate this promotion?", confirm: "Deactivate it",
      message: "It stops applying to carts and new orders at once; orders already placed keep their discount." },
    async () => {
      await call("DELETE", `${URL_}/${p.id}`, { headers: { "If-Match": p.version } });
      await ctx.reload();
      announce(`Promotion ${p.name} deactivated.`);
    }, { class: "secondary" })));
  }
  root.append(form({
    id: "promotion-edit", legend: "Settings", submit: "Save promotion",
    fields: [...fields(p), { name: "is_active", label: "Active", type: "checkbox", checked: p.is_active }],
    onSubmit: async (values) => write(ctx, () => call("PATCH", `${URL_}/${p.id}`, {
      body: { ...body(values), is_active: values.is_active, expected_version: p.version } }), () => "Promotion saved."),
  }));
}
