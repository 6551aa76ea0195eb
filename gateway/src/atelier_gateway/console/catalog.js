// Merchandising: the product list (search, filters, pages, stock inline), the product editor
// (fields, variants, images, storefronts, stock, active, translations) and the CSV round trip
// (export, dry run, apply). Every read and write is a call of the catalog's staff API; nothing from it becomes HTML.

import { call, get, hasRole } from "./api.js";
import { filterForm, hashWith, PAGE_SIZE, V1 } from "./kit.js";
import { actionButton, announce, clearAlert, form, go, h, link, money, saveFile, showError, table } from "./ui.js";

// The category tree as [[id, "Parent › Child"], …] in tree order, inactive ones marked.
export async function categoryOptions() {
  const tree = (await get(`${V1}/categories`, { include_inactive: "true" })).results;
  const out = [];
  const walk = (nodes, trail) => {
    for (const c of nodes) {
      const name = [...trail, c.name].join(" › ");
      out.push({ id: c.id, label: c.is_active ? name : `${name} (inactive)`, node: c, depth: trail.length });
      walk(c.children || [], [...trail, c.name]);
    }
  };
  walk(tree, []);
  return out;
}

// The storefronts a staffer may pick: the admin reads the list; others type slugs.
async function storefrontSlugs() {
  if (!hasRole("admin")) return [];
  return (await get(`${V1}/storefronts`, { limit: 100 })).results.map((s) => s.slug);
}

const slugsOf = (text) => String(text || "").split(/[\s,]+/).filter(Boolean);

// ---------------------------------------------------------------- the list

async function productList(root, ctx) {
  root.append(h("h1", {}, "Catalog"));
  const q = ctx.query;
  const [categories, storefronts] = await Promise.all([categoryOptions(), storefrontSlugs()]);
  if (hasRole("merchandiser")) {
    root.append(h("p", { class: "actions" }, link("#/catalog/new", "New product"), link("#/catalog/csv", "Export or import CSV"),
      link("#/categories", "Edit the category tree")));
  }
  root.append(filterForm(ctx, "catalog", {
    id: "product-search", legend: "Products", submit: "Show",
    fields: [{ name: "search", label: "Name or SKU", value: q.search },
             { name: "category", label: "Category", type: "select", value: q.category,
               options: [["", "Any"], ...categories.map((c) => [c.id, c.label])] },
             storefronts.length
               ? { name: "storefront", label: "Storefront", type: "select", value: q.storefront, options: [["", "Any"], ...storefronts.map((s) => [s, s])] }
               : { name: "storefront", label: "Storefront (slug)", value: q.storefront, placeholder: "e.g. marbelle" },
             { name: "status", label: "Status", type: "select", value: q.status, options: [["", "Any"], ["active", "Active"], ["inactive", "Inactive"]] },
             { name: "stock", label: "Stock", type: "select", value: q.stock, options: [["", "Any"], ["low", "Low"], ["out", "Out of stock"]] }],
  }));
  const page = await get(`${V1}/products`, { search: q.search, category: q.category, storefront: q.storefront, status: q.status,
                                             stock: q.stock, include_inactive: "true", limit: PAGE_SIZE, offset: q.offset });
  if (ctx.stale()) return;
  const names = new Map(categories.map((c) => [c.id, c.label]));
  const columns = [
    { label: "Product", value: (p) => hasRole("merchandiser") ? link(`#/catalog/${p.id}`, p.name) : p.name },
    { label: "SKU", value: (p) => p.sku },
    { label: "Price", value: (p) => money(p.price, p.currency), num: true },
    { label: "Stock", value: (p) => h("span", { id: `stock-${p.id}` }, p.track_inventory === false ? "not tracked" : p.stock_quantity), num: true },
    { label: "Category", value: (p) => names.get(p.category_id) || "—" },
    { label: "Status", value: (p) => p.is_active ? "active" : "inactive" }];
  if (hasRole("merchandiser")) columns.push({ label: "Stock change", value: (p) => p.track_inventory === false ? "" : stockForm(p) });
  const offset = Number(q.offset || 0);
  const last = Math.min(offset + PAGE_SIZE, page.count);
  root.append(h("div", { id: "results", "aria-label": "Products" },
    table("Products", columns, page.results, "No products."),
    h("nav", { class: "pager", "aria-label": "Pages" },
      offset > 0 ? link(hashWith("catalog", { ...q, offset: Math.max(0, offset - PAGE_SIZE) }), "Previous page") : null,
      h("span", {}, page.count ? `${offset + 1}–${last} of ${page.count}` : "0 results"),
      offset + PAGE_SIZE < page.count ? link(hashWith("catalog", { ...q, offset: offset + PAGE_SIZE }), "Next page") : null)));
  announce(`${page.count} products found`);
}

// A stock change: units and a reason, kept in the stock history; compact (`inline`) in a list's row,
// its labels shown in both.
function stockForm(product, variants = [], inline = true) {
  const fields = [{ name: "delta", label: "Units (±)", type: "number", required: true, step: 1 },
                  { name: "reason", label: "Reason", required: true }];
  if (variants.length) {
    fields.unshift({ name: "variant", label: "Of", type: "select",
                     options: [["", product.name], ...variants.map((v) => [v.id, `${v.name} (${v.sku})`])] });
  }
  const el = form({
    legend: `Stock of ${product.name}`, submit: "Apply", fields,
    onSubmit: async (values) => {
      const body = { delta: Number(values.delta), reason: values.reason };
      if (values.variant) body.variant_id = values.variant;
      const moved = await call("POST", `${V1}/products/${product.id}/stock`, { body });
      const cell = document.getElementById(values.variant ? `stock-${values.variant}` : `stock-${product.id}`);
      if (cell) cell.textContent = moved.stock_quantity;
      announce(`${product.name}: ${moved.stock_quantity} in stock.`);
      el.reset();
    },
  });
  if (inline) el.classList.add("inline");
  return el;
}

// ---------------------------------------------------------------- the editor

function productFields(product, categories, storefronts) {
  const p = product || {};
  return [
    { name: "name", label: "Name", required: true, value: p.name },
    { name: "sku", label: "SKU", required: true, value: p.sku },
    { name: "description", label: "Description", value: p.description },
    { name: "price", label: "Price", required: true, inputmode: "decimal", value: p.price },
    { name: "compare_price", label: "Compare-at price", inputmode: "decimal", value: p.compare_price },
    { name: "currency", label: "Currency", required: true, value: p.currency || "USD" },
    { name: "category_id", label: "Category", type: "select", value: p.category_id || "",
      options: [["", "None"], ...categories.map((c) => [c.id, c.label])] },
    // The rate each class pays is the storefront's (or its shipping zone's): docs/storefronts.md.
    { name: "tax_class", label: "Tax class", type: "select", value: p.tax_class || "standard",
      options: [["standard", "Standard rate"], ["reduced", "Reduced rate"], ["zero", "Zero rate"]] },
    { name: "storefronts", label: "Storefronts (slugs; empty: all)", value: (p.storefronts || []).join(" "),
      placeholder: `e.g. ${storefronts.length ? storefronts.slice(0, 2).join(" ") : "marbelle shop"}` },
    { name: "slug", label: "URL slug (empty: made from the name)", value: p.slug },
    { name: "is_active", label: "Active", type: "checkbox", checked: product ? p.is_active : true }];
}

function productBody(values, creating) {
  const body = { name: values.name, sku: values.sku, description: values.description, price: values.price,
                 compare_price: values.compare_price || null, currency: values.currency.toUpperCase(),
                 category_id: values.category_id || null, tax_class: values.tax_class,
                 storefronts: slugsOf(values.storefronts), is_active: values.is_active };
  if (values.slug) body.slug = values.slug;
  if (creating) body.stock_quantity = Number(values.stock_quantity || 0);
  return body;
}

async function editor(root, ctx) {
  const id = ctx.args[0];
  const creating = id === "new";
  const [categories, storefronts] = await Promise.all([categoryOptions(), storefrontSlugs()]);
  const product = creating ? null : await get(`${V1}/products/${encodeURIComponent(id)}`, { include_inactive: "true" });
  if (ctx.stale()) return;
  root.append(h("p", {}, link("#/catalog", "← Products")), h("h1", {}, creating ? "New product" : product.name));
  if (product) {
    const category = categories.find((c) => c.id === product.category_id);
    root.append(h("p", { id: "product-state", class: "muted" },
      `${product.is_active ? "Active" : "Inactive"} · ${money(product.price, product.currency)} · `,
      product.track_inventory ? `${product.stock_quantity} in stock` : "stock not tracked",
      ` · ${category ? category.label : "no category"}`));
  }
  const fields = productFields(product, categories, storefronts);
  if (creating) fields.splice(6, 0, { name: "stock_quantity", label: "Initial stock", type: "number", min: 0, step: 1, value: 0 });
  root.append(form({
    id: "product-form", legend: "Product", submit: creating ? "Create product" : "Save product", fields,
    onSubmit: async (values) => {
      if (creating) {
        const made = await call("POST", `${V1}/products`, { body: productBody(values, true) });
        await go(`#/catalog/${made.id}`, ctx, `Created ${made.name}.`);
        return;
      }
      // Only what changed: an older product whose storefronts no longer sell its currency stays
      // editable as long as neither is touched (CURRENCY_NOT_SOLD is judged on those two).
      const body = Object.fromEntries(Object.entries(productBody(values, false))
        .filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(product[k] ?? null)));
      if (!Object.keys(body).length) { announce("Nothing changed."); return; }
      const saved = await call("PATCH", `${V1}/products/${product.id}`, { body });
      announce(`Saved ${saved.name}.`);
      ctx.reload();
    },
  }));
  if (creating) return;

  root.append(variantsSection(product, ctx), imagesSection(product, ctx), h("section", { "aria-label": "Stock" },
    h("h2", {}, "Stock"), stockForm(product, product.variants || [], false)), await translationsSection(product, ctx),
  otherCurrencySection(product, ctx));
  if (product.is_active) {
    root.append(h("div", { class: "actions" }, actionButton("Deactivate product", async () => {
      await call("DELETE", `${V1}/products/${product.id}`);
      announce(`${product.name} is inactive: hidden from shoppers.`);
      ctx.reload();
    }, { class: "secondary" })));
  }
}

function variantsSection(product, ctx) {
  const section = h("section", { "aria-label": "Variants" }, h("h2", {}, "Variants"));
  section.append(table(`Variants of ${product.name}`, [
    { label: "Variant", value: (v) => v.name }, { label: "SKU", value: (v) => v.sku },
    { label: "Price", value: (v) => money(v.price, product.currency), num: true },
    { label: "Stock", value: (v) => h("span", { id: `stock-${v.id}` }, v.stock_quantity), num: true },
    { label: "Status", value: (v) => v.is_active ? "active" : "inactive" },
    { label: "Action", value: (v) => v.is_active ? actionButton("Deactivate", async () => {
      await call("DELETE", `${V1}/products/${product.id}/variants/${v.id}`);
      announce(`Variant ${v.name} is inactive.`);
      ctx.reload();
    }, { class: "secondary", "aria-label": `Deactivate variant ${v.name}` }) : "" }],
  product.variants || [], "No variants: the product sells as one item."));
  for (const v of product.variants || []) section.append(variantEditor(product, v, ctx));
  section.append(form({
    id: "variant-form", legend: "Add a variant", submit: "Add variant",
    fields: [{ name: "name", label: "Variant name", required: true, placeholder: "e.g. A2, red, large" },
             { name: "sku", label: "Variant SKU", required: true },
             { name: "price", label: `Variant price (empty: the product's, ${product.price})`, inputmode: "decimal" },
             { name: "stock_quantity", label: "Variant stock", type: "number", min: 0, step: 1, value: 0 }],
    onSubmit: async (values) => {
      const made = await call("POST", `${V1}/products/${product.id}/variants`, { body: {
        name: values.name, sku: values.sku, price: values.price || null, stock_quantity: Number(values.stock_quantity || 0) } });
      announce(`Added variant ${made.name}.`);
      ctx.reload();
    },
  }));
  return section;
}

// A variant's own fields, as the variant PATCH takes them (its stock moves through the stock form):
// only what changed is sent, so a variant that follows the product's price keeps following it
// until a price is typed (within a product, `price` is the one it sells at); an empty price
// follows the product's again.
function variantEditor(product, v, ctx) {
  const el = form({
    id: `variant-edit-${v.id}`, legend: `Variant ${v.name}`, submit: "Save variant",
    fields: [{ name: "name", label: `Name of variant ${v.name}`, required: true, value: v.name },
             { name: "sku", label: `SKU of variant ${v.name}`, required: true, value: v.sku },
             { name: "price", label: `Price of variant ${v.name} (empty: the product's)`, inputmode: "decimal", value: v.price },
             { name: "is_active", label: `Variant ${v.name} on sale`, type: "checkbox", checked: v.is_active }],
    onSubmit: async (values) => {
      const wanted = { name: values.name, sku: values.sku, price: values.price || null, is_active: values.is_active };
      const body = Object.fromEntries(Object.entries(wanted).filter(([k, value]) => value !== (v[k] ?? null)));
      if (!Object.keys(body).length) { announce("Nothing changed."); return; }
      const saved = await call("PATCH", `${V1}/products/${product.id}/variants/${v.id}`, { body });
      await go(`#/catalog/${product.id}`, ctx, `Saved variant ${saved.name}.`);
    },
  });
  return h("details", { class: "edit" }, h("summary", {}, `Edit variant ${v.name}`), el);
}

function imagesSection(product, ctx) {
  const section = h("section", { "aria-label": "Images" }, h("h2", {}, "Images"));
  const images = product.images || [];
  section.append(images.length
    ? h("ul", { class: "thumbs" }, images.map((i) => h("li", {},
        h("img", { src: i.url, alt: i.alt_text || "", width: 96, height: 96 }),
        h("span", {}, i.is_primary ? "Main picture" : ""),
        actionButton("Remove", async () => {
          await call("DELETE", `${V1}/products/${product.id}/images/${i.id}`);
          announce("Image removed.");
          ctx.reload();
        }, { class: "secondary", "aria-label": `Remove image ${i.alt_text || i.id}` }))))
    : h("p", { class: "muted" }, "No images."));
  // A file input is not one of ui.form's fields: this small form sends multipart.
  const file = h("input", { type: "file", id: "image-file", name: "image", accept: "image/jpeg,image/png,image/webp", required: true });
  const alt = h("input", { type: "text", id: "image-alt", name: "alt_text", maxlength: 300 });
  const button = h("button", { type: "submit" }, "Upload image");
  const el = h("form", { id: "image-form", novalidate: true }, h("fieldset", {}, h("legend", {}, "Upload an image"),
    h("div", { class: "fields" },
      h("div", { class: "field" }, h("label", { for: "image-file" }, "Image file"), file),
      h("div", { class: "field" }, h("label", { for: "image-alt" }, "Alt text"), alt), button)));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearAlert();
    if (!file.files.length) { showError({ code: "VALIDATION_ERROR", message: "Choose an image file." }); file.focus(); return; }
    const body = new FormData();
    body.append("image", file.files[0]);
    body.append("alt_text", alt.value.trim());
    body.append("is_primary", images.length ? "false" : "true");
    button.disabled = true;
    try {
      await call("POST", `${V1}/products/${product.id}/images/upload`, { body });
      announce("Image uploaded.");
      ctx.reload();
    } catch (error) { showError(error); } finally { button.disabled = false; }
  });
  section.append(el);
  return section;
}

// The product's texts in its storefronts' other languages, each beside the default text: a form per
// locale (name, description, each variant's name); an empty field shows the default text there.
async function translationsSection(product, ctx) {
  const section = h("section", { "aria-label": "Translations" }, h("h2", {}, "Translations"));
  const base = `${V1}/products/${product.id}`;
  const variants = product.variants || [];
  const [own, ...ofVariants] = await Promise.all([get(`${base}/translations`),
    ...variants.map((v) => get(`${base}/variants/${v.id}/translations`))]);
  if (!own.locales.length) {
    section.append(h("p", { class: "muted" }, "None of its storefronts shows another language than its default. "
      + "Add languages to a storefront (Storefronts, Languages) to translate its products."));
    return section;
  }
  for (const locale of own.locales) {
    const mine = own.results.find((t) => t.locale === locale) || {};
    const variantText = (i) => (ofVariants[i].results.find((t) => t.locale === locale) || {}).name || "";
    const original = h("dl", { class: "facts", id: `default-text-${locale}` },
      h("dt", {}, "Name"), h("dd", {}, product.name),
      h("dt", {}, "Description"), h("dd", {}, product.description || "—"),
      variants.map((v) => [h("dt", {}, `Variant ${v.sku}`), h("dd", {}, v.name)]));
    const el = form({
      id: `translation-form-${locale}`, legend: `In ${locale}`, submit: `Save ${locale}`,
      fields: [{ name: "name", label: `Name in ${locale}`, value: mine.name || "" },
               { name: "description", label: `Description in ${locale}`, type: "textarea", rows: 4,
                 value: mine.description || "" },
               ...variants.map((v, i) => ({ name: `variant_${v.id}`, label: `Variant ${v.sku} in ${locale}`,
                                            value: variantText(i) }))],
      onSubmit: async (values) => {
        await call("PUT", `${base}/translations/${locale}`, { body: { name: values.name || null,
                                                                      description: values.description || null } });
        for (const [i, v] of variants.entries()) {
          const name = values[`variant_${v.id}`];
          if (name === variantText(i)) continue;
          const path = `${base}/variants/${v.id}/translations/${locale}`;
          await (name ? call("PUT", path, { body: { name } }) : call("DELETE", path));
        }
        await go(`#/catalog/${product.id}`, ctx, `Saved the ${locale} texts.`);
      },
    });
    // What is typed is in that language (spelling, a screen reader's voice).
    for (const input of el.querySelectorAll("input[type=text], textarea")) input.setAttribute("lang", locale);
    section.append(h("div", { class: "side-by-side" },
      h("div", {}, h("h3", {}, "Default text"), original), h("div", {}, el)));
    if (own.results.some((t) => t.locale === locale)) {
      section.append(h("div", { class: "actions" }, actionButton(`Remove the ${locale} texts`, async () => {
        await call("DELETE", `${base}/translations/${locale}`);
        for (const v of variants) await call("DELETE", `${base}/variants/${v.id}/translations/${locale}`);
        await go(`#/catalog/${product.id}`, ctx, `Removed the ${locale} texts: the default text shows.`);
      }, { class: "secondary" })));
    }
  }
  return section;
}

// The catalog has one price and one currency per product (variants sell in the product's
// currency), and a product is offered only in storefronts that sell in its currency
// (CURRENCY_NOT_SOLD). Selling in a storefront of another currency is another product: this makes
// that copy, with its own SKU and price, the variants and pictures included.
function otherCurrencySection(product, ctx) {
  const section = h("section", { "aria-label": "Another storefront's currency" }, h("h2", {}, "Sell in another currency"),
    h("p", { class: "muted" }, `A product has one price and one currency (${product.currency}). For a storefront that sells in another currency, make a copy priced in it.`));
  section.append(form({
    id: "copy-form", legend: "Copy for another storefront", submit: "Create copy",
    fields: [{ name: "storefront", label: "For storefront (slug)", required: true, placeholder: "e.g. marbelle" },
             { name: "currency", label: "Its currency", required: true, placeholder: "e.g. EUR" },
             { name: "price", label: "Price in that currency", required: true, inputmode: "decimal" },
             { name: "suffix", label: "SKU suffix", required: true, placeholder: "e.g. EU" }],
    onSubmit: async (values) => {
      const suffix = values.suffix.toUpperCase();
      const made = await call("POST", `${V1}/products`, { body: {
        name: product.name, sku: `${product.sku}-${suffix}`, description: product.description, price: values.price,
        currency: values.currency.toUpperCase(), category_id: product.category_id, storefronts: [values.storefront],
        is_active: product.is_active, kind: product.kind, tax_class: product.tax_class, attributes: product.attributes,
        stock_quantity: product.track_inventory ? product.stock_quantity : 0 } });
      for (const v of product.variants || []) {
        // A variant priced apart keeps its price only when it matches the product's (same currency).
        await call("POST", `${V1}/products/${made.id}/variants`, { body: { name: v.name, sku: `${v.sku}-${suffix}`, stock_quantity: 0 } });
      }
      for (const i of product.images || []) {
        await call("POST", `${V1}/products/${made.id}/images`, { body: { url: i.url, alt_text: i.alt_text, is_primary: i.is_primary } });
      }
      await go(`#/catalog/${made.id}`, ctx, `Created ${made.sku} for ${values.storefront} in ${made.currency}.`);
    },
  }));
  return section;
}

// ---------------------------------------------------------------- CSV

function reportTable(report) {
  const c = report.counts;
  return h("div", { id: "import-report" },
    h("p", { id: "import-counts" }, `${report.dry_run ? "Dry run" : "Applied"}: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.error} in error.`),
    table("Import report", [
      { label: "Line", value: (r) => r.line, num: true }, { label: "SKU", value: (r) => r.sku },
      { label: "Result", value: (r) => r.status }, { label: "Message", value: (r) => r.message || "" }],
    report.rows, "The file has no product rows."));
}

async function csvPage(root) {
  root.append(h("p", {}, link("#/catalog", "← Products")), h("h1", {}, "Products as CSV"));
  root.append(h("section", { "aria-label": "Export" }, h("h2", {}, "Export"),
    h("p", { class: "muted" }, "Every product, active or not, a row per variant, as Shopify's product CSV lays it out: the product's "
      + "columns on its first row, then on each row its SKU, a variant (variant_sku, variant_name, variant_price, "
      + "variant_stock_quantity, variant_is_active) and an image (image_url, image_alt_text)."),
    h("div", { class: "actions" }, actionButton("Export CSV", async () => {
      saveFile("products.csv", await call("GET", `${V1}/products/export.csv`, { asText: true, headers: { Accept: "text/csv" } }), "text/csv");
      announce("Exported the products.");
    }))));

  const file = h("input", { type: "file", id: "csv-file", name: "file", accept: ".csv,text/csv", required: true });
  const out = h("div", { id: "import-result" });
  let checked = null;  // the file the last dry run read: "Apply" sends that same file
  const applyButton = h("button", { type: "button", disabled: true }, "Apply import");
  const send = async (dryRun) => {
    const body = new FormData();
    body.append("file", checked);
    return call("POST", `${V1}/products/import`, { body, query: { dry_run: String(dryRun) } });
  };
  const checkButton = h("button", { type: "submit" }, "Dry run");
  const el = h("form", { id: "import-form", novalidate: true }, h("fieldset", {}, h("legend", {}, "Import"),
    h("div", { class: "fields" }, h("div", { class: "field" }, h("label", { for: "csv-file" }, "CSV file"), file), checkButton, applyButton)));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearAlert();
    out.textContent = "";
    applyButton.disabled = true;
    if (!file.files.length) { showError({ code: "VALIDATION_ERROR", message: "Choose a CSV file." }); file.focus(); return; }
    checked = file.files[0];
    checkButton.disabled = true;
    try {
      const report = await send(true);
      out.append(reportTable(report));
      applyButton.disabled = false;
      announce(`Dry run: ${report.counts.created} to create, ${report.counts.updated} to update, ${report.counts.error} in error.`);
    } catch (error) { showError(error); } finally { checkButton.disabled = false; }
  });
  file.addEventListener("change", () => { applyButton.disabled = true; out.textContent = ""; });
  applyButton.addEventListener("click", async () => {
    clearAlert();
    applyButton.disabled = true;
    try {
      const report = await send(false);
      out.textContent = "";
      out.append(reportTable(report));
      announce(`Applied: ${report.counts.created} created, ${report.counts.updated} updated, ${report.counts.error} in error.`);
    } catch (error) { showError(error); applyButton.disabled = false; }
  });
  root.append(h("section", { "aria-label": "Import" }, h("h2", {}, "Import"),
    h("p", { class: "muted" }, "Rows are matched by SKU: a new SKU is created, a known one updated with the columns given; "
      + "its variants by variant_sku and its images by image_url are added or updated (none is removed). "
      + "The dry run shows what would happen; Apply does it."),
    el, out));
}

export async function catalogPage(root, ctx) {
  const [first] = ctx.args;
  if (!first) return productList(root, ctx);
  if (!hasRole("merchandiser")) {
    root.append(h("h1", {}, "Catalog"), h("p", {}, "This page needs the merchandiser role."));
    return;
  }
  if (first === "csv") return csvPage(root, ctx);
  return editor(root, ctx);
}
