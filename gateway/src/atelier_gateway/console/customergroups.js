// Customer groups: identity's /api/v1/staff/customer-groups. A storefront's groups (admins create,
// rename and delete them; support and merchandisers read), and each group's page: its members,
// one added by e-mail, many at once (e-mails or ids, one a line: all or nothing), one removed.
// A customer is in one group per storefront; a change reaches its prices at its next token refresh.

import { ApiError, call, get, hasRole } from "./api.js";
import { pageServed, V1 } from "./kit.js";
import { confirmButton } from "./ops.js";
import { form, go, h, link, table } from "./ui.js";

const BASE = `${V1}/staff/customer-groups`;

const entries = (text) => (text || "").split(/[\s,;]+/).map((e) => e.trim()).filter(Boolean);

// What an assignment did, in words; the entries no account has are named (nothing changed then).
function outcome(result, verb) {
  const moved = result.changed.filter((m) => m.previous_group);
  const parts = [`${result.changed.length} ${verb}`];
  if (moved.length) parts.push(`${moved.length} left another group (${[...new Set(moved.map((m) => m.previous_group))].join(", ")})`);
  if (result.unchanged.length) parts.push(`${result.unchanged.length} unchanged`);
  return `${parts.join(", ")}.`;
}

async function change(path, customers) {
  try {
    return await call("POST", path, { body: { customers } });
  } catch (error) {
    if (error instanceof ApiError && error.code === "CUSTOMERS_NOT_FOUND") {
      error.message = `No account has: ${(error.details.not_found || []).join(", ")}. Nothing was changed.`;
    }
    throw error;
  }
}

export async function customerGroups(root, ctx) {
  const [id] = ctx.args;
  if (id) return groupPage(root, ctx, id);
  if (!(await pageServed(root, "Customer groups", BASE))) return;
  const storefront = ctx.query.storefront;
  const page = await get(BASE, { storefront });
  root.append(h("p", {}, "Price lists name a group's code; its members see those prices from their next token refresh. ",
    storefront ? link("#/customer-groups", "Every storefront's groups") : ""));
  root.append(table("Customer groups", [
    { label: "Group", value: (g) => link(`#/customer-groups/${g.id}`, g.name) },
    { label: "Code", value: (g) => g.code }, { label: "Storefront", value: (g) => g.storefront },
    { label: "Members", value: (g) => String(g.members), num: true }], page.results, "No customer groups yet."));
  if (!hasRole("admin")) return;
  root.append(form({
    id: "group-new", legend: "New customer group", submit: "Create group",
    fields: [{ name: "storefront", label: "Storefront (slug)", required: true, value: storefront || "default" },
             { name: "code", label: "Code (lower case, e.g. wholesale; fixed once created)", required: true },
             { name: "name", label: "Name", required: true, placeholder: "e.g. Wholesale" }],
    onSubmit: async (values) => {
      const created = await call("POST", BASE, { body: values });
      await go(`#/customer-groups/${created.id}`, ctx, `Customer group ${created.name} created.`);
    },
  }));
}

async function groupPage(root, ctx, id) {
  const url = `${BASE}/${encodeURIComponent(id)}`;
  const [group, members] = await Promise.all([get(url), get(`${url}/members`, { limit: 100 })]);
  const here = `#/customer-groups/${group.id}`;
  root.append(h("p", {}, link(`#/customer-groups?storefront=${encodeURIComponent(group.storefront)}`, "← Customer groups")),
    h("h1", {}, `Customer group ${group.name}`),
    h("p", {}, `Code ${group.code} on ${group.storefront}: ${group.members} member${group.members === 1 ? "" : "s"}.`));
  const support = hasRole("support");
  root.append(h("h2", {}, "Members"), table("Members", [
    { label: "E-mail", value: (m) => (m.email ? link(`#/customers/${m.id}`, m.email) : m.id) },
    { label: "Name", value: (m) => `${m.first_name} ${m.last_name}`.trim() },
    { label: "Company", value: (m) => m.company_name || "" },
    ...(support ? [{ label: "", value: (m) => confirmButton(`Remove ${m.email || m.id}`, {
      title: `Remove ${m.email || m.id} from ${group.name}?`, confirm: "Remove",
      message: "From the next token refresh, the customer pays the storefront's own prices." }, async () => {
      await call("DELETE", `${url}/members/${m.id}`);
      await go(here, ctx, `${m.email || m.id} removed.`);
    }, { class: "secondary" }) }] : [])],
  members.results, "No members yet."));
  if (members.count > members.results.length) {
    root.append(h("p", { class: "muted" }, `The latest ${members.results.length} of ${members.count} shown.`));
  }
  if (support) {
    root.append(form({
      id: "group-assign", legend: "Add a customer", submit: "Add",
      fields: [{ name: "email", label: "Customer's e-mail", required: true, type: "email" }],
      onSubmit: async (values) => go(here, ctx, outcome(await change(`${url}/members`, [values.email]), "added")),
    }));
    root.append(form({
      id: "group-bulk", legend: "Add or remove many customers", submit: "Add them",
      fields: [{ name: "customers", label: "E-mails or customer ids, one a line (up to 1,000)", type: "textarea",
                 required: true, rows: 6 },
               { name: "remove", label: "Remove them instead", type: "checkbox" }],
      onSubmit: async (values) => {
        const path = values.remove ? `${url}/members/remove` : `${url}/members`;
        await go(here, ctx, outcome(await change(path, entries(values.customers)), values.remove ? "removed" : "added"));
      },
    }));
  }
  if (!hasRole("admin")) return;
  root.append(form({
    id: "group-rename", legend: "Rename", submit: "Save name",
    fields: [{ name: "name", label: "Name", required: true, value: group.name }],
    onSubmit: async (values) => {
      const saved = await call("PATCH", url, { body: values });
      await go(here, ctx, `Customer group ${saved.name} saved.`);
    },
  }));
  root.append(h("p", { class: "actions" }, confirmButton("Delete group", {
    title: `Delete the customer group ${group.name}?`, confirm: "Delete it",
    message: "Its members leave it, and price lists naming its code price nobody." }, async () => {
    await call("DELETE", url);
    await go("#/customer-groups", ctx, `Customer group ${group.name} deleted.`);
  }, { class: "secondary", id: "delete-group" })));
}
