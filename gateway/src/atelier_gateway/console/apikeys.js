// API keys for machine callers (the admin's; identity's /api/v1/staff/api-keys, docs/security.md
// "API keys"): every key with its roles, narrow scopes, storefronts and last use, a new one, rotating
// and revoking.
// A secret is shown once, right after create or rotate: identity never shows it again.

import { call, get } from "./api.js";
import { V1, write } from "./kit.js";
import { confirmButton } from "./ops.js";
import { actionButton, announce, facts, form, h, table, when } from "./ui.js";

const URL_ = `${V1}/staff/api-keys`;
const ROLES = ["support", "merchandiser", "finance", "admin"];
// Narrower than a role: each names a few staff routes (a key needs a role or a scope).
const SCOPES = ["orders:read", "invoices:read", "stock:write", "customers:read"];

function shownOnce(title, name, secret) {
  const box = document.getElementById("new-secret");
  box.replaceChildren(h("h2", {}, title), h("p", {}, "Copy it now for the caller: it is not shown again."),
    facts([["Key", name], ["Secret", h("code", { id: "api-key-secret" }, secret)]]));
}

function state(k) {
  if (k.revoked_at) return `revoked ${when(k.revoked_at)}`;
  if (k.expires_at && new Date(k.expires_at) <= new Date()) return "expired";
  return "active";
}

export async function apiKeys(root, ctx) {
  root.append(h("h1", {}, "API keys"));
  const page = await get(URL_, { limit: 100 });
  const actions = (k) => k.revoked_at ? "" : h("div", { class: "actions" },
    actionButton("Rotate", () => write(ctx, () => call("POST", `${URL_}/${k.id}/rotate`), (made) => {
      shownOnce("New secret", made.name, made.secret);
      return `Key ${k.name} rotated: the old secret works for 24 hours.`;
    }), { class: "secondary", "aria-label": `Rotate ${k.name}` }),
    confirmButton("Revoke", {
      title: `Revoke ${k.name}?`, confirm: "Revoke it",
      message: "Every secret of this key stops working at once. This cannot be undone." },
    () => write(ctx, () => call("POST", `${URL_}/${k.id}/revoke`), () => `Key ${k.name} revoked.`),
    { class: "secondary", "aria-label": `Revoke ${k.name}` }));
  root.append(table("API keys", [
    { label: "Name", value: (k) => k.name }, { label: "Roles", value: (k) => k.roles.join(", ") || "none" },
    { label: "Scopes", value: (k) => (k.scopes || []).join(", ") || "none" },
    { label: "Storefronts", value: (k) => k.storefronts.includes("*") ? "all" : k.storefronts.join(", ") },
    { label: "Secrets", value: (k) => k.secrets.map((s) => s.expires_at ? `${s.hint}… (until ${when(s.expires_at)})` : `${s.hint}…`).join(", ") },
    { label: "Last used", value: (k) => k.last_used_at ? `${when(k.last_used_at)} (${k.use_count} exchanges)` : "never" },
    { label: "State", value: state }, { label: "Action", value: actions }],
  page.results, "No API key."));
  root.append(form({
    id: "api-key-new", legend: "Create a key", submit: "Create key",
    fields: [
      { name: "name", label: "Name", required: true },
      ...ROLES.map((r) => ({ name: r, label: r, type: "checkbox", checked: r === "support" })),
      ...SCOPES.map((s) => ({ name: s, label: s, type: "checkbox" })),
      { name: "storefronts", label: "Storefronts (slugs, comma-separated; * for all)", required: true, value: "*" },
      { name: "expires_at", label: "Expires (optional)", type: "datetime-local" },
    ],
    onSubmit: async (values) => {
      const body = { name: values.name, roles: ROLES.filter((r) => values[r]), scopes: SCOPES.filter((s) => values[s]),
                     storefronts: values.storefronts.split(",").map((s) => s.trim()).filter(Boolean),
                     expires_at: values.expires_at ? new Date(values.expires_at).toISOString() : null };
      const made = await call("POST", URL_, { body });
      await ctx.reload();
      shownOnce("Secret", made.name, made.secret);
      announce(`Key ${made.name} created.`);
    },
  }), h("div", { id: "new-secret" }));
}
