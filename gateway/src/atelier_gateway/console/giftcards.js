// Gift cards: payments' /api/v1/staff/gift-cards (support; admins pass every check). A storefront's
// cards newest first, a new card issued (its whole code shown this once: payments keeps only a
// digest, so it cannot be shown again), and each card's page: its balance, every movement of it,
// and deactivate / reactivate.

import { call, get, hasRole } from "./api.js";
import { filterForm, hashWith, PAGE_SIZE, pageServed, results, V1, write } from "./kit.js";
import { confirmButton } from "./ops.js";
import { actionButton, facts, form, go, h, link, money, table, when } from "./ui.js";

const BASE = `${V1}/staff/gift-cards`;

// The code of the card just issued, kept only until its page has shown it once.
let justIssued = null;

export async function giftCards(root, ctx) {
  const [id] = ctx.args;
  if (id) return cardPage(root, ctx, id);
  if (!(await pageServed(root, "Gift cards", BASE))) return;
  const { storefront, last4, active } = ctx.query;
  root.append(filterForm(ctx, "gift-cards", {
    id: "gift-card-filter", legend: "Find gift cards", submit: "Show",
    fields: [{ name: "storefront", label: "Storefront (slug)", value: storefront },
             { name: "last4", label: "Last four characters of the code", value: last4 },
             { name: "active", label: "State", type: "select", value: active,
               options: [["", "Any"], ["true", "Active"], ["false", "Deactivated"]] }],
  }));
  const page = await get(BASE, { storefront, last4: last4 || undefined, active, limit: PAGE_SIZE, offset: ctx.query.offset });
  results(root, "Gift cards", page, [
    { label: "Card", value: (c) => link(`#/gift-cards/${c.id}`, `••••${c.last4}`) },
    { label: "Storefront", value: (c) => c.storefront },
    { label: "Balance", value: (c) => money(c.balance, c.currency), num: true },
    { label: "Issued for", value: (c) => money(c.initial_balance, c.currency), num: true },
    { label: "Expires", value: (c) => (c.expires_at ? when(c.expires_at) : "never") },
    { label: "State", value: (c) => (c.is_active ? "active" : "deactivated") }], ctx, "gift-cards");
  if (!hasRole("support")) return;
  root.append(form({
    id: "gift-card-new", legend: "Issue a gift card", submit: "Issue card",
    fields: [{ name: "storefront", label: "Storefront (slug)", required: true, value: storefront || "default" },
             { name: "amount", label: "Amount", required: true, type: "number", step: "0.01", min: "0.01" },
             { name: "currency", label: "Currency (empty: the storefront's)", placeholder: "e.g. EUR" },
             { name: "expires_at", label: "Expires on (empty: payments' default validity)", type: "date" },
             { name: "recipient_email", label: "Recipient's e-mail", type: "email" },
             { name: "note", label: "Note (staff only)", type: "textarea", rows: 2 }],
    onSubmit: async (values) => {
      const body = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
      if (body.expires_at) body.expires_at = `${body.expires_at}T23:59:59Z`;
      const card = await call("POST", BASE, { body });
      justIssued = { id: card.id, code: card.code };
      await go(`#/gift-cards/${card.id}`, ctx, `Gift card ••••${card.last4} issued.`);
    },
  }));
}

async function cardPage(root, ctx, id) {
  const url = `${BASE}/${encodeURIComponent(id)}`;
  const card = await get(url);
  root.append(h("p", {}, link(hashWith("gift-cards", { storefront: card.storefront }), "← Gift cards")),
    h("h1", {}, `Gift card ••••${card.last4}`));
  if (justIssued && justIssued.id === card.id) {
    root.append(h("section", { class: "notice", id: "gift-card-code", "aria-label": "The card's code" },
      h("p", {}, "The card's code, shown this once: give it to its recipient now."),
      h("p", {}, h("strong", {}, justIssued.code))));
    justIssued = null;
  }
  root.append(facts([
    ["Balance", money(card.balance, card.currency)], ["Issued for", money(card.initial_balance, card.currency)],
    ["Storefront", card.storefront], ["State", card.is_active ? "active" : "deactivated"],
    ["Expires", card.expires_at ? when(card.expires_at) : "never"], ["Recipient", card.recipient_email || "—"],
    ["Note", card.note || "—"], ["Issued", when(card.created_at)]]));
  root.append(h("h2", {}, "Movements"), table("Movements", [
    { label: "When", value: (t) => when(t.created_at) }, { label: "What", value: (t) => t.kind },
    { label: "Amount", value: (t) => money(t.amount, t.currency), num: true },
    { label: "Order", value: (t) => (t.order_id ? link(`#/orders/${t.order_id}`, t.order_id) : "") }],
  card.transactions, "No movements."));
  if (!hasRole("support")) return;
  const here = `#/gift-cards/${card.id}`;
  if (card.is_active) {
    root.append(h("p", { class: "actions" }, confirmButton("Deactivate", {
      title: `Deactivate the gift card ••••${card.last4}?`, confirm: "Deactivate",
      message: "It pays nothing until reactivated; a checkout already started keeps what it holds." }, async () => {
      await call("POST", `${url}/deactivate`, { body: {} });
      await go(here, ctx, `Gift card ••••${card.last4} deactivated.`);
    }, { class: "secondary", id: "deactivate-gift-card" })));
  } else {
    root.append(h("p", { class: "actions" }, actionButton("Reactivate", () => write(ctx,
      () => call("POST", `${url}/reactivate`, { body: {} }), () => `Gift card ••••${card.last4} reactivated.`),
    { class: "secondary", id: "reactivate-gift-card" })));
  }
}
