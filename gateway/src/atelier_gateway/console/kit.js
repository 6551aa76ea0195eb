// What the pages share: the API's prefix, the `#/…` links of a filtered list and its pages, a section
// that loads on its own, a write that shows the current state when it was stale, and the two forms
// more than one page shows (credits, resending a mail). Page modules import this one, never
// pages.js (the registry, which imports them): no module imports one that imports it back.

import { ApiError, call, newKey, serves } from "./api.js";
import { actionButton, announce, form, go, h, link, showError, table } from "./ui.js";

export const V1 = "/api/v1";
export const PAGE_SIZE = 25;

// A page's link with its filters (an empty or unchecked one left out).
export function hashWith(path, query) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== "" && v !== false));
  return `#/${path}${q.toString() ? "?" + q : ""}`;
}

// A filtered list's form: submitting it opens the list (`path`) with the filters chosen, as its
// link would, so that the filters are in the address and the back button goes to the last ones.
export function filterForm(ctx, path, { id, legend, fields, submit = "Show" }) {
  return form({ id, legend, submit, fields, onSubmit: async (values) => go(hashWith(path, values), ctx) });
}

const UNAVAILABLE = "Not available on this platform yet.";

// A page's heading, then whether this platform has the page's list route (`path`); if not, says so
// in place of the list.
export async function pageServed(root, title, path) {
  root.append(h("h1", {}, title));
  if (await serves("GET", path)) return true;
  root.append(h("p", { class: "muted" }, UNAVAILABLE));
  return false;
}

// A section that loads on its own: a role it needs, or a route this platform lacks, says so in
// place instead of failing the page.
export async function section(root, title, load, needs = null) {
  const body = h("div", { "aria-busy": "true" });
  root.append(h("section", { "aria-label": title }, h("h2", {}, title), body));
  if (needs && !(await serves(...needs))) {
    body.removeAttribute("aria-busy");
    body.append(h("p", { class: "muted" }, UNAVAILABLE));
    return body;
  }
  try {
    const content = await load();
    body.append(...[].concat(content));
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) body.append(h("p", { class: "muted" }, "Your role cannot see this."));
    else if (error instanceof ApiError && (error.status === 404 || error.status === 405) && error.code !== "USER_NOT_FOUND"
             && error.code !== "ORDER_NOT_FOUND") body.append(h("p", { class: "muted" }, "Not available: " + error.message));
    else body.append(h("p", { class: "muted" }, `Could not load: ${error.message}`));
  } finally {
    body.removeAttribute("aria-busy");
  }
  return body;
}

export function pager(ctx, path, page) {
  const offset = Number(ctx.query.offset || 0);
  const prev = offset > 0 ? link(hashWith(path, { ...ctx.query, offset: Math.max(0, offset - PAGE_SIZE) }), "Previous page") : null;
  const next = offset + PAGE_SIZE < page.count ? link(hashWith(path, { ...ctx.query, offset: offset + PAGE_SIZE }), "Next page") : null;
  const last = Math.min(offset + PAGE_SIZE, page.count);
  return h("nav", { class: "pager", "aria-label": "Pages" }, prev,
    h("span", {}, page.count ? `${offset + 1}–${last} of ${page.count}` : "0 results"), next);
}

export function results(root, caption, page, columns, ctx, path) {
  const region = h("div", { id: "results", "aria-label": caption });
  region.append(table(caption, columns, page.results, "No results."), pager(ctx, path, page));
  root.append(region);
  // A slower answer of a page already left (a search typed while the whole list loaded) says nothing:
  // the live region is the current page's.
  if (!ctx.stale()) announce(`${page.count} ${caption.toLowerCase()} found`);
}

const staleMessage = "It changed since you opened it: the current state is shown, nothing was applied.";

// A write refused as stale (409 STALE_VERSION) shows the current state instead of the form's.
export async function write(ctx, run, done) {
  try {
    const answer = await run();
    await ctx.reload();
    if (done) announce(done(answer));
    return answer;
  } catch (error) {
    if (error instanceof ApiError && error.code === "STALE_VERSION") {
      await ctx.reload();
      showError({ code: error.code, message: staleMessage });
      return null;
    }
    throw error;
  }
}

// A customer's credits, granted or deducted: on the customer's page (support) and, for finance, on
// an order's.
export function creditsForm(userId, ctx) {
  let key = newKey();
  return form({
    id: "credits", legend: "Credits (positive grants, negative deducts)", submit: "Apply",
    fields: [{ name: "amount", label: "Number of credits", type: "number", required: true, step: 1 },
             { name: "reason", label: "Reason (the customer sees it)", required: true }],
    onSubmit: async (values) => {
      const amount = Number(values.amount);
      if (!Number.isInteger(amount) || amount === 0) {
        throw new ApiError(400, { error: { code: "VALIDATION_ERROR", message: "Credits must be a whole number other than zero.",
                                           details: { fields: { amount: ["a whole number, not zero"] } } } });
      }
      await write(ctx, () => call("POST", `${V1}/staff/customers/${userId}/credits`, { body: { amount, reason: values.reason },
        headers: { "Idempotency-Key": key } }), (r) => `${r.amount > 0 ? "Granted" : "Deducted"} ${Math.abs(r.amount)} credits; balance ${r.balance}.`);
      key = newKey();
    },
  });
}

// Resending a mail identity sent: from a customer's mail and from an order's.
export function resendButton(mail, ctx) {
  const key = newKey();
  return actionButton("Resend", () => write(ctx, () => call("POST", `${V1}/staff/mail/${mail.id}/resend`,
    { body: {}, headers: { "Idempotency-Key": key } }), () => `Resent “${mail.subject}” to ${mail.to}.`),
  { "aria-label": `Resend “${mail.subject}”`, class: "secondary" });
}
