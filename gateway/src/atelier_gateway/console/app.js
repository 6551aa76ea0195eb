// The console shell: sign-in, the navigation a staffer's roles allow, and the `#/…` router.
// Each page is a module listed in pages.js; they call the staff API only (api.js).

import { currentUser, hasRole, signIn, signOut, staffRoles } from "./api.js";
import { clearAlert, clearStatus, form, h, showError } from "./ui.js";
import { PAGES } from "./pages.js";

const view = () => document.getElementById("view");

function navigation(active) {
  const list = document.getElementById("nav-list");
  list.textContent = "";
  for (const page of PAGES) {
    if (page.nav === false || (page.roles.length && !hasRole(...page.roles))) continue;
    list.append(h("li", {}, h("a", { href: `#/${page.path}`, "aria-current": page.path === active ? "page" : null }, page.title)));
  }
}

function parse() {
  const raw = location.hash.startsWith("#/") ? location.hash.slice(2) : "";
  const [path, search = ""] = raw.split("?");
  const [name = "", ...rest] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { name: name || "dashboard", args: rest, query: Object.fromEntries(new URLSearchParams(search)) };
}

function signInPage() {
  document.body.classList.add("signed-out");
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").textContent = "";
  const root = view();
  root.textContent = "";
  root.append(h("h1", {}, "Staff sign-in"), h("div", { class: "signin" }, form({
    id: "sign-in", legend: "Your staff account", submit: "Sign in",
    fields: [{ name: "email", label: "Email", type: "email", required: true, autocomplete: "username" },
             { name: "password", label: "Password", type: "password", required: true, autocomplete: "current-password" }],
    onSubmit: async (values) => { await signIn(values.email, values.password); await route(); },
  })));
  document.title = "Sign in · Atelier console";
  root.querySelector("input").focus();
}

let generation = 0;

// A page reloaded after its own change keeps the status line that announces the change.
export async function route({ keepStatus = false } = {}) {
  clearAlert();
  if (!keepStatus) clearStatus();
  if (!currentUser()) return signInPage();
  document.body.classList.remove("signed-out");
  const user = currentUser();
  document.getElementById("who").textContent = `${user.email} (${staffRoles().join(", ") || "staff"})`;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("nav").hidden = false;
  const { name, args, query } = parse();
  const page = PAGES.find((p) => p.path === name);
  navigation(page ? page.path : null);
  const root = view();
  const mine = ++generation;
  root.textContent = "";
  if (!page) {  // an unknown address says so instead of showing another page
    document.title = "Not found · Atelier console";
    root.append(h("h1", {}, "No such page"), h("p", {}, h("a", { href: "#/" }, "Dashboard")));
    return;
  }
  document.title = `${page.title} · Atelier console`;
  if (page.roles.length && !hasRole(...page.roles)) {
    root.append(h("h1", {}, page.title), h("p", {}, `This page needs the ${page.roles.join(" or ")} role.`));
    return;
  }
  const content = h("div", { "aria-busy": "true" });
  root.append(content);
  try {
    await page.render(content, { args, query, reload: () => route({ keepStatus: true }), stale: () => mine !== generation });
  } catch (error) {
    if (mine === generation) showError(error);  // a page left (signed out, say) says nothing more
  } finally {
    content.removeAttribute("aria-busy");
  }
}

window.addEventListener("hashchange", () => route());
window.addEventListener("console:signed-out", () => route());
document.getElementById("sign-out").addEventListener("click", async () => { await signOut(); location.hash = "#/"; await route(); });
// The skip link moves focus without touching the hash (the hash is the router's).
document.getElementById("skip").addEventListener("click", (event) => { event.preventDefault(); document.getElementById("main").focus(); });
route();
