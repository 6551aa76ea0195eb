// The category tree editor: the tree as nested lists, and forms to add, rename, move under another
// parent (the catalog refuses a cycle: CATEGORY_CYCLE), deactivate, reactivate or delete one.

import { call, hasRole } from "./api.js";
import { announce, form, h } from "./ui.js";
import { categoryOptions } from "./catalog.js";
import { V1 } from "./kit.js";

function tree(nodes) {
  return h("ul", { class: "tree" }, nodes.map((c) => h("li", {},
    h("span", { class: c.is_active ? "" : "muted" }, c.name),
    h("span", { class: "muted" }, ` /${c.slug} · ${c.product_count} products${c.is_active ? "" : " · inactive"}`),
    c.children && c.children.length ? tree(c.children) : null)));
}

export async function categoriesPage(root, ctx) {
  root.append(h("h1", {}, "Categories"));
  const all = await categoryOptions();
  if (ctx.stale()) return;
  const roots = all.filter((c) => c.depth === 0).map((c) => c.node);
  root.append(h("section", { "aria-label": "Category tree", id: "category-tree" }, h("h2", {}, "Tree"),
    roots.length ? tree(roots) : h("p", { class: "muted" }, "No categories yet.")));
  if (!hasRole("merchandiser")) return;
  const choices = all.map((c) => [c.id, c.label]);
  const done = (message) => { announce(message); ctx.reload(); };
  root.append(form({
    id: "category-new", legend: "New category", submit: "Add category",
    fields: [{ name: "name", label: "Name", required: true },
             { name: "parent_id", label: "Under", type: "select", options: [["", "Top level"], ...choices] }],
    onSubmit: async (values) => {
      const made = await call("POST", `${V1}/categories`, { body: { name: values.name, parent_id: values.parent_id || null } });
      done(`Added ${made.name}.`);
    },
  }));
  if (!all.length) return;
  root.append(form({
    id: "category-edit", legend: "Rename or move a category", submit: "Save category",
    fields: [{ name: "category", label: "Category", type: "select", required: true, options: choices },
             { name: "name", label: "New name (empty: unchanged)" },
             { name: "parent", label: "Move under", type: "select",
               options: [["keep", "(where it is)"], ["", "Top level"], ...choices] }],
    onSubmit: async (values) => {
      const body = {};
      if (values.name) body.name = values.name;
      if (values.parent !== "keep") body.parent_id = values.parent || null;
      const saved = await call("PATCH", `${V1}/categories/${values.category}`, { body });
      done(`Saved ${saved.name}.`);
    },
  }));
  // Deactivating hides a category and everything under it from shoppers; only an empty one (no
  // product, active or not, and no child) may be deleted for good (else CATEGORY_NOT_EMPTY).
  root.append(form({
    id: "category-state", legend: "Deactivate, reactivate or delete a category", submit: "Apply",
    fields: [{ name: "category", label: "Which category", type: "select", required: true, options: choices },
             { name: "action", label: "Action", type: "select",
               options: [["deactivate", "Deactivate (hide)"], ["activate", "Reactivate"], ["delete", "Delete (an empty one only)"]] }],
    onSubmit: async (values) => {
      const { name } = all.find((c) => c.id === values.category).node;
      if (values.action === "activate") await call("PATCH", `${V1}/categories/${values.category}`, { body: { is_active: true } });
      else await call("DELETE", `${V1}/categories/${values.category}`, { query: { permanently: values.action === "delete" ? "true" : "" } });
      done(`${name}: ${{ activate: "active", deactivate: "inactive", delete: "deleted" }[values.action]}.`);
    },
  }));
}
