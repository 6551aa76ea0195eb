// What the operations pages share: the confirmation asked before anything that cannot be undone,
// long error text made readable, and customers named by their email.

import { get, hasRole } from "./api.js";
import { actionButton, h, link } from "./ui.js";

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

// A customer by email where support may open customers (the id until the email is read).
const emails = new Map();

export function customerRef(id) {
  if (!id) return "—";
  if (!hasRole("support")) return String(id);
  const a = link(`#/customers/${id}`, String(id));
  if (!emails.has(id)) emails.set(id, get(`/api/v1/staff/customers/${encodeURIComponent(id)}`).then((c) => c.email).catch(() => null));
  emails.get(id).then((email) => { if (email) a.textContent = email; });
  return a;
}
