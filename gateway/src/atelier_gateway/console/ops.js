// What the operations pages share: the confirmation asked before anything that cannot be undone,
// long error text made readable, and customers named by their email.

import { get, hasRole } from "./api.js";
import { V1 } from "./kit.js";
import { actionButton, h } from "./ui.js";

// A modal dialog (the browser's own <dialog>: focus kept inside, Escape dismisses). Resolves true
// when the staffer confirms, false otherwise; focus goes back to where it was.
export function confirmed({ title, message, confirm }) {
  const opener = document.activeElement;
  const heading = h("h2", { id: "confirm-title" }, title);
  const yes = h("button", { type: "button", class: "danger" }, confirm);
  const no = h("button", { type: "button", class: "secondary" }, "Go back");
  const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-text" },
    heading, h("p", { id: "confirm-text" }, message), h("div", { class: "actions" }, yes, no));
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answer = false;
    yes.addEventListener("click", () => { answer = true; dialog.close(); });
    no.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(answer);
    });
    dialog.showModal();
    no.focus();  // the safe choice first: Enter on a dialog opened by mistake does nothing
  });
}

// An action button that asks first (`ask`: {title, message, confirm}).
export function confirmButton(text, ask, action, attrs = {}) {
  return actionButton(text, async () => { if (await confirmed(ask)) await action(); }, attrs);
}

// An error message (a Pydantic report is many lines): its first line, the rest folded under it.
export function readableError(text) {
  if (!text) return "";
  const [first, ...rest] = String(text).split("\n");
  const head = h("span", { class: "wrap" }, first);
  if (!rest.length) return head;
  return h("div", {}, head, h("details", {}, h("summary", {}, "Details"), h("pre", {}, rest.join("\n"))));
}

export function pretty(value) { return h("pre", { class: "json" }, JSON.stringify(value, null, 2)); }

// A long id (a UUID) as its first eight characters, the whole id in its title.
export function shortId(id, href) {
  const full = String(id ?? "");
  const text = full.length > 12 ? `${full.slice(0, 8)}…` : full;
  return href ? h("a", { href, title: full }, text) : h("span", { title: full }, text);
}

// A customer by email where the role may read customers (support, who also opens their page, and
// finance; the short id until the email is read, the whole id in its title). The ids a page asks for while it is built are named by one staff
// request per hundred (`GET /staff/customers?id=…&id=…`), each id once per console load.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const names = new Map();  // id → Promise of its email (or username), null when none is known
let waiting = null;  // id → resolve, for the next request

export function customerRef(id) {
  if (!id) return "—";
  if (!hasRole("support", "finance")) return shortId(id);
  const a = shortId(id, hasRole("support") ? `#/customers/${id}` : undefined);
  if (UUID.test(String(id))) {
    nameOf(String(id)).then((name) => { if (name) a.textContent = name; });
  }
  return a;
}

function nameOf(id) {
  if (!names.has(id)) {
    if (!waiting) {
      waiting = new Map();
      setTimeout(nameWaiting, 0);  // after the table being built has asked for all of its rows
    }
    const batch = waiting;
    names.set(id, new Promise((resolve) => batch.set(id, resolve)));
  }
  return names.get(id);
}

async function nameWaiting() {
  const batch = waiting;
  waiting = null;
  const ids = [...batch.keys()];
  for (let i = 0; i < ids.length; i += 100) {
    const chunk = ids.slice(i, i + 100);
    let found = new Map();
    try {
      const query = chunk.map((id) => `id=${encodeURIComponent(id)}`).join("&");
      const page = await get(`${V1}/staff/customers?${query}`, { limit: 100 });
      found = new Map(page.results.map((c) => [c.id, c.email || c.username]));
    } catch {
      for (const id of chunk) names.delete(id);  // asked again on the next page
    }
    for (const id of chunk) batch.get(id)(found.get(id) || null);
  }
}
