// Small DOM helpers: elements built with text nodes (never HTML parsed from data), tables, forms
// with labelled fields, the alert that takes focus and the polite status line.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function link(href, text) { return h("a", { href }, text); }

export function when(value) {
  if (!value) return "—";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

// The tax classes with a rate of their own (a storefront's `tax.tax_rates`, a zone's `tax_rates`):
// a field per class, empty for none; `taxRatesOf` reads them back ({} when every one is empty).
const TAX_CLASSES = [["reduced", "Reduced"], ["zero", "Zero"]];
export function taxRateFields(rates, otherwise) {
  return TAX_CLASSES.map(([c, label]) => ({ name: `tax_rate_${c}`, label: `${label} class rate (empty: ${otherwise(c)})`,
                                           inputmode: "decimal", value: (rates || {})[c] ?? "" }));
}
export function taxRatesOf(values) {
  return Object.fromEntries(TAX_CLASSES.filter(([c]) => values[`tax_rate_${c}`]).map(([c]) => [c, values[`tax_rate_${c}`]]));
}

export function money(amount, currency) { return amount === undefined || amount === null ? "—" : `${amount} ${currency || ""}`.trim(); }

// Decimal strings added exactly (BigInt on a common scale): revenue is never summed as floats.
export function addDecimal(a, b) {
  const scale = Math.max(decimals(a), decimals(b));
  const sum = toUnits(a, scale) + toUnits(b, scale);
  const negative = sum < 0n;
  const digits = (negative ? -sum : sum).toString().padStart(scale + 1, "0");
  const whole = scale ? digits.slice(0, -scale) + "." + digits.slice(-scale) : digits;
  return (negative ? "-" : "") + whole;
}
function decimals(s) { const i = String(s).indexOf("."); return i < 0 ? 0 : String(s).length - i - 1; }
function toUnits(s, scale) {
  let [whole, frac = ""] = String(s).split(".");
  const negative = whole.startsWith("-");
  if (negative) whole = whole.slice(1);
  const units = BigInt(whole || "0") * 10n ** BigInt(scale) + BigInt((frac + "0".repeat(scale)).slice(0, scale) || "0");
  return negative ? -units : units;
}

// columns: [{label, value: row => text|Node, num?}]
export function table(caption, columns, rows, empty = "Nothing to show.") {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("table", {},
    h("caption", { class: "skip" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.value(row)))))));
}

// Save `data` (text or a Blob) as the file `name`: a Blob URL the browser downloads, never opened
// here (nothing from an answer is rendered as a page), revoked a minute later.
export function saveFile(name, data, type) {
  const url = URL.createObjectURL(data instanceof Blob ? data : new Blob([data], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

const alertBox = () => document.getElementById("alert");

export function showError(error) {
  const box = alertBox();
  box.textContent = "";
  box.append(h("strong", {}, error.code ? `${error.code}: ` : "Error: "), error.message || String(error));
  box.hidden = false;
  box.focus();
}

export function clearAlert() { const box = alertBox(); box.hidden = true; box.textContent = ""; }

let announcing = null;

export function announce(message) {
  const status = document.getElementById("status");
  clearStatus();
  // A new text node in the live region: read out even when the same words come twice.
  announcing = setTimeout(() => { status.textContent = message; }, 30);
}

// A page left takes its status line with it (and a message still on its way).
export function clearStatus() { clearTimeout(announcing); document.getElementById("status").textContent = ""; }

// Go to `hash` (reload the page when already on it) and wait until the router has started on it,
// then announce `message` there: the router clears the status line of the page left.
export async function go(hash, ctx, message) {
  if (location.hash === hash) await ctx.reload();
  else {
    const moved = new Promise((resolve) => window.addEventListener("hashchange", resolve, { once: true }));
    location.hash = hash;
    await moved;
  }
  if (message) announce(message);
}

let fieldSeq = 0;

// fields: [{name, label, type?, required?, options?: [[value, text]], value?, checked?, min?, max?, step?, hint?}]
// A required field's label is marked (an asterisk the form's note explains; `aria-required` says it
// to a screen reader), a hint is help text under the input (what an empty field means).
// onSubmit(values, formEl) may throw ApiError: its message shows in the alert, field errors by
// their inputs (VALIDATION_ERROR details), and focus goes to the first field in error.
export function form({ legend, fields, submit, onSubmit, id }) {
  const inputs = {};
  const rows = fields.map((f) => {
    const fid = `f${++fieldSeq}-${f.name}`;
    let input;
    const needed = f.required && f.type !== "checkbox";
    if (f.type === "select") {
      input = h("select", { id: fid, name: f.name, required: f.required, "aria-required": needed ? "true" : null },
        f.options.map(([v, t]) => h("option", { value: v, selected: String(f.value ?? "") === String(v) }, t)));
    } else if (f.type === "textarea") {
      input = h("textarea", { id: fid, name: f.name, required: f.required, "aria-required": needed ? "true" : null,
                              rows: f.rows || 8, spellcheck: "false" });
      input.value = f.value ?? "";
    } else {
      input = h("input", { id: fid, name: f.name, type: f.type || "text", required: f.required,
                          "aria-required": needed ? "true" : null, value: f.value,
                          checked: f.checked, min: f.min, max: f.max, step: f.step, autocomplete: f.autocomplete || "off",
                          inputmode: f.inputmode, placeholder: f.placeholder });
    }
    inputs[f.name] = input;
    const error = h("span", { class: "field-error", id: `${fid}-error` });
    input.setAttribute("aria-describedby", `${fid}-error`);
    errorOf.set(input, error);
    const hint = f.hint ? h("span", { class: "hint", id: `${fid}-hint` }, f.hint) : null;
    if (hint) input.setAttribute("aria-describedby", `${fid}-hint ${fid}-error`);
    // The marker is beside the label, not in it: the field's name stays its label's words.
    const label = h("label", { for: fid }, f.label);
    const check = f.type === "checkbox";
    return h("div", { class: check ? "field check" : "field" },
      check ? [input, label] : [needed ? h("span", { class: "label-row" }, label, REQUIRED_MARK()) : label, input], hint, error);
  });
  const button = h("button", { type: "submit" }, submit);
  const note = fields.some((f) => f.required && f.type !== "checkbox")
    ? h("p", { class: "required-note", "aria-hidden": "true" }, "* required") : null;
  const el = h("form", { id, novalidate: true },
    h("fieldset", {}, h("legend", {}, legend), note, h("div", { class: "fields" }, rows, button)));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearAlert();
    for (const input of Object.values(inputs)) {
      input.removeAttribute("aria-invalid");
      errorOf.get(input).textContent = "";
    }
    const missing = Object.values(inputs).find((i) => i.required && i.type !== "checkbox" && !i.value.trim());
    if (missing) {
      fieldError(missing, "Required");
      showError({ code: "VALIDATION_ERROR", message: `${labelOf(missing)} is required.` });
      missing.focus();
      return;
    }
    const values = {};
    for (const [name, input] of Object.entries(inputs)) values[name] = input.type === "checkbox" ? input.checked : input.value.trim();
    button.disabled = true;
    try {
      await onSubmit(values, el);
    } catch (error) {
      const bad = markFields(error, inputs);
      showError(error);
      if (bad) bad.focus();
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

// The visible mark of a required field (the input's `required` and `aria-required` say it to a screen reader).
const REQUIRED_MARK = () => h("span", { class: "required-mark", "aria-hidden": "true", title: "required" }, "*");

// Each input's error line (its aria-describedby may name a hint too).
const errorOf = new WeakMap();

function labelOf(input) { const l = document.querySelector(`label[for="${input.id}"]`); return l ? l.textContent : input.name; }

function fieldError(input, message) {
  input.setAttribute("aria-invalid", "true");
  errorOf.get(input).textContent = message;
}

function markFields(error, inputs) {
  if (!error || error.code !== "VALIDATION_ERROR" || !error.details) return null;
  let first = null;
  // The common format: {"fields": {"amount": ["…"], "query.email": ["…"]}}
  for (const [loc, messages] of Object.entries(error.details.fields || {})) {
    // A form may name an input by the path joined with "_" (legal.address.1: `legal_address`), else by its last part.
    const parts = loc.split(".");
    const joined = parts.map((_, i) => parts.slice(0, parts.length - i).join("_")).slice(0, -1).find((name) => inputs[name]);
    const input = inputs[joined] || inputs[parts[parts.length - 1]];
    // A field inside a structured one (shipping_zones.0.methods.1.amount): its input, with the path.
    const outer = input ? null : inputs[loc.split(".")[0]];
    if (input) { fieldError(input, [].concat(messages).join(" ")); first = first || input; }
    else if (outer) { fieldError(outer, `${loc}: ${[].concat(messages).join(" ")}`); first = first || outer; }
  }
  return first;
}

// A button that runs `action`; errors go to the alert, and the button is busy meanwhile.
export function actionButton(text, action, attrs = {}) {
  const button = h("button", { type: "button", ...attrs }, text);
  button.addEventListener("click", async () => {
    clearAlert();
    button.disabled = true;
    try { await action(); } catch (error) { showError(error); } finally { button.disabled = false; }
  });
  return button;
}
