// Storefronts (the admin's; identity's /api/v1/storefronts): the list, a new one, and each one's
// settings: origins (the sites CORS lets in), currency, tax, mail sender, frontend links, compat
// profile, whether a guest's paid order registers its buyer (guest_accounts), its policies
// (contracts.identity.StorefrontPolicies), the seller's legal details its invoices print
// (contracts.identity.StorefrontLegal), its languages (locales, default_locale) and its shipping zones.

import { ApiError, call, get, schemaDescriptions, schemaHas } from "./api.js";
import { V1 } from "./kit.js";
import { form, go, h, link, money, table, taxRateFields, taxRatesOf } from "./ui.js";

const KINDS = ["physical", "credit_pack", "retry_pack", "subscription_plan", "print_tier"];
const LINKS = ["verify_email", "reset_password", "magic_link", "email_change", "order", "set_password"];
const PROFILES = ["storybook", "marbelle", "reviv", "shop", "figureforge"];
// StorefrontPolicies' fields: [name, label, kind]; empty means the install's own setting, which the
// field's help says in the server's words (its OpenAPI description: policyField's `hint`).
const POLICIES = [
  ["access_token_minutes", "Access token lifetime (minutes)", "int"],
  ["password_policy", "Password policy", "choice"],
  ["cart_line_limit", "Most of one product per cart line (0: stock only)", "int"],
  ["signin_lockout_minutes", "Sign-in lockout (minutes)", "int"],
  ["registrations_per_hour_per_ip", "Registrations per hour per address", "int"],
  ["anonymous_requests_per_minute", "Requests a minute, anonymous", "int"],
  ["customer_requests_per_minute", "Requests a minute, signed-in customer", "int"],
  ["passkey_signup_signs_in", "Passkey sign-up signs in before the email is confirmed", "tristate"],
  ["low_stock_threshold", "Low stock at or below", "int"],
  ["alert_emails", "Low-stock alert emails (space-separated)", "list"],
  ["tracking_number_required", "Orders ship with a tracking number", "tristate"],
  ["customer_order_edits", "Customers may lower their own orders before processing", "tristate"],
];
const TRISTATE = [["", "The install's setting"], ["true", "yes"], ["false", "no"]];
// contracts.identity.GuestAccounts; "offer" is the default (docs/storefronts.md#guest-accounts).
const GUEST_ACCOUNTS = [["offer", "offer: only a buyer who asks at checkout gets an account"],
                        ["create", "create: every paid guest order registers its buyer"],
                        ["never", "never: guests stay guests"]];
// StorefrontLegal's fields, as the form names them; all empty: no legal details (invoices name the storefront).
const LEGAL = ["legal_name", "legal_address", "legal_tax_number", "legal_registration_number", "legal_email"];

const words = (text) => (text || "").split(/[\s,]+/).filter(Boolean);

export async function storefronts(root, ctx) {
  const [slug] = ctx.args;
  if (slug) return storefrontPage(root, ctx, slug === "new" ? null : slug);
  root.append(h("h1", {}, "Storefronts"), h("p", {}, link("#/storefronts/new", "Add a storefront")));
  const page = await get(`${V1}/storefronts`, { limit: 100 });
  root.append(table("Storefronts", [
    { label: "Slug", value: (s) => link(`#/storefronts/${encodeURIComponent(s.slug)}`, s.slug) }, { label: "Name", value: (s) => s.name },
    { label: "Currency", value: (s) => s.currency },
    { label: "Tax", value: (s) => s.tax ? `${s.tax.rate}${s.tax.inclusive ? " incl." : ""}` : "—" },
    { label: "Shipping zones", value: (s) => (s.shipping_zones || []).map((z) => z.code).join(", ") || "—" },
    { label: "Sells", value: (s) => (s.sells || []).join(", ") }, { label: "Origins", value: (s) => (s.origins || []).join(" ") },
    { label: "Guest accounts", value: (s) => s.guest_accounts || "offer" },
    { label: "Default", value: (s) => s.is_default ? "yes" : "" }], page.results));
}

function policyField([name, label, kind], value, hint) {
  if (kind === "int") return { name, label, hint, type: "number", min: 0, step: 1, value: value ?? "" };
  if (kind === "list") return { name, label, hint, value: (value || []).join(" ") };
  if (kind === "choice") return { name, label, hint, type: "select", value: value ?? "", options: [["", "The install's setting"], ["length", "length"], ["strict", "strict"]] };
  return { name, label, hint, type: "select", value: value === null || value === undefined ? "" : String(value), options: TRISTATE };
}

function policyValue([name, , kind], values) {
  const raw = values[name];
  if (kind === "list") return words(raw);
  if (raw === "") return null;
  if (kind === "int") {
    if (!/^\d+$/.test(raw)) {
      throw new ApiError(400, { error: { code: "VALIDATION_ERROR", message: "A policy is a whole number, 0 or more.",
                                         details: { fields: { [name]: ["a whole number"] } } } });
    }
    return Number(raw);
  }
  return kind === "tristate" ? raw === "true" : raw;
}

// The seller on the storefront's invoices and credit notes: its legal name, address (one line each), tax number.
function legalFields(legal) {
  return [
    { name: "legal_name", label: "Legal name, as invoices name the seller (empty: the storefront's name)", value: legal.name ?? "",
      placeholder: "e.g. Atelier Trading Ltd" },
    { name: "legal_address", label: "Legal address, one line each", type: "textarea", rows: 4, value: (legal.address || []).join("\n") },
    { name: "legal_tax_number", label: "Seller's tax or VAT number", value: legal.tax_number ?? "", placeholder: "e.g. GB123456789" },
    { name: "legal_registration_number", label: "Company registration number", value: legal.registration_number ?? "" },
    { name: "legal_email", label: "Seller's email on invoices", type: "email", value: legal.email ?? "" },
  ];
}

// The `legal` block of the form's values: null when every legal field is empty (none printed).
function legalValue(values) {
  const text = (name) => (values[name] || "").trim();
  const address = (values.legal_address || "").split("\n").map((line) => line.trim()).filter(Boolean);
  if (!LEGAL.some((name) => text(name))) return null;
  return { name: text("legal_name"), address, tax_number: text("legal_tax_number") || null,
           registration_number: text("legal_registration_number") || null, email: text("legal_email") || null };
}

async function storefrontPage(root, ctx, slug) {
  const s = slug ? await get(`${V1}/storefronts/${encodeURIComponent(slug)}`) : null;
  // identity may not take `policies` yet on this platform: then the form leaves them out (the
  // fields show once the platform's schema says it does).
  const policies = () => schemaHas(slug ? "StorefrontUpdate" : "StorefrontCreate", "policies");
  const legal = () => schemaHas(slug ? "StorefrontUpdate" : "StorefrontCreate", "legal");
  const guestAccounts = () => schemaHas(slug ? "StorefrontUpdate" : "StorefrontCreate", "guest_accounts");
  const languages = () => schemaHas(slug ? "StorefrontUpdate" : "StorefrontCreate", "locales");
  root.append(h("p", {}, link("#/storefronts", "← Storefronts")), h("h1", {}, s ? `Storefront ${s.name}` : "New storefront"));
  const tax = (s && s.tax) || {};
  const paths = (s && s.link_paths) || {};
  // What each empty policy falls back to, as the server's schema describes it.
  const [hints, taxHints] = await Promise.all([schemaDescriptions("StorefrontPoliciesIn"), schemaDescriptions("StorefrontTaxIn")]);
  const fields = [
    ...(s ? [] : [{ name: "slug", label: "Slug", required: true, placeholder: "e.g. marbelle" }]),
    { name: "name", label: "Name", required: true, value: s && s.name },
    { name: "origins", label: "Origins (space-separated)", value: s ? s.origins.join(" ") : "" },
    { name: "currency", label: "Currency", required: true, value: s ? s.currency : "USD" },
    { name: "rate", label: "Tax rate (0.09 is 9%)", inputmode: "decimal", value: tax.rate ?? "0" },
    ...taxRateFields(tax.tax_rates, (c) => (c === "zero" ? "0" : "the standard one")),
    { name: "inclusive", label: "Prices include tax", type: "checkbox", checked: !!tax.inclusive },
    { name: "shipping_rate", label: s ? `Shipping per order (${s.currency})` : "Shipping per order",
      inputmode: "decimal", value: tax.shipping_rate ?? "", hint: taxHints.shipping_rate },
    { name: "shipping_taxed", label: "Shipping taxed with the goods (without zones; each zone says its own)", type: "checkbox", checked: !!tax.shipping_taxed },
    { name: "mail_from", label: "Mail sender", value: s && s.mail_from, placeholder: "e.g. Shop <no-reply@shop.example>" },
    { name: "frontend_url", label: "Frontend URL", type: "url", required: true, value: s && s.frontend_url },
    ...LINKS.map((k) => ({ name: k, label: `Link path: ${k.replace("_", " ")}`, value: paths[k] ?? "" })),
    { name: "compat_profile", label: "Compat profile", type: "select", value: (s && s.compat_profile) || "",
      options: [["", "none"], ...PROFILES.map((p) => [p, p])] },
    ...KINDS.map((k) => ({ name: `sells_${k}`, label: `Sells ${k.replace("_", " ")}`, type: "checkbox", checked: s ? s.sells.includes(k) : true })),
    { name: "verified_email_optional", label: "No verified email needed", type: "checkbox", checked: !!(s && s.verified_email_optional) },
    { name: "guest_accounts", label: "Guest accounts (a guest's paid order)", type: "select",
      value: (s && s.guest_accounts) || "offer", options: GUEST_ACCOUNTS },
    { name: "default_locale", label: "Default language (its catalog's own texts)", value: (s && s.default_locale) || "en",
      placeholder: "e.g. en" },
    { name: "locales", label: "Languages shown (space-separated, the default among them)",
      value: s && s.locales ? s.locales.join(" ") : "", placeholder: "e.g. en ka",
      hint: "Empty: the default language alone. Products and categories are translated on their pages." },
    ...POLICIES.map((p) => policyField(p, s && s.policies ? s.policies[p[0]] : null, hints[p[0]])),
    ...legalFields((s && s.legal) || {}),
  ];
  const el = form({
    id: "storefront-form", legend: s ? "Settings" : "The new storefront", submit: s ? "Save storefront" : "Add storefront", fields,
    onSubmit: async (values) => {
      const body = {
        name: values.name, origins: words(values.origins), currency: values.currency.toUpperCase(),
        tax: { rate: values.rate || "0", inclusive: values.inclusive, shipping_rate: values.shipping_rate || null,
               shipping_taxed: values.shipping_taxed, tax_rates: taxRatesOf(values) },
        mail_from: values.mail_from || null, frontend_url: values.frontend_url,
        link_paths: Object.fromEntries(LINKS.filter((k) => values[k]).map((k) => [k, values[k]])),
        compat_profile: values.compat_profile || null, sells: KINDS.filter((k) => values[`sells_${k}`]),
        verified_email_optional: values.verified_email_optional,
      };
      if (await policies()) body.policies = Object.fromEntries(POLICIES.map((p) => [p[0], policyValue(p, values)]));
      if (await legal()) body.legal = legalValue(values);
      if (await guestAccounts()) body.guest_accounts = values.guest_accounts;
      if (await languages()) Object.assign(body, { default_locale: values.default_locale || "en", locales: words(values.locales) });
      if (!s) body.slug = values.slug;
      const saved = s ? await call("PATCH", `${V1}/storefronts/${encodeURIComponent(s.slug)}`, { body })
        : await call("POST", `${V1}/storefronts`, { body });
      await go(`#/storefronts/${encodeURIComponent(saved.slug)}`, ctx,
               s ? `Storefront ${saved.slug} saved.` : `Storefront ${saved.slug} added.`);
    },
  });
  const policyFields = POLICIES.map(([name]) => el.querySelector(`[name="${name}"]`).closest(".field"));
  for (const field of policyFields) field.hidden = true;
  root.append(el);
  if (await policies()) for (const field of policyFields) field.hidden = false;
  else root.append(h("p", { class: "muted", id: "no-policies" }, "This platform does not take storefront policies yet."));
  const legalRows = LEGAL.map((name) => el.querySelector(`[name="${name}"]`).closest(".field"));
  if (!await legal()) for (const field of legalRows) field.hidden = true;
  if (!await guestAccounts()) el.querySelector('[name="guest_accounts"]').closest(".field").hidden = true;
  if (!await languages()) for (const name of ["default_locale", "locales"]) el.querySelector(`[name="${name}"]`).closest(".field").hidden = true;
  if (s && await schemaHas("StorefrontUpdate", "shipping_zones")) root.append(...zonesSection(s));
}

// What one method costs, in a few words, in the storefront's currency: "5.00 USD", "by weight from 0 g
// 15.00 USD, 2000 g 25.00 USD", "… free over 75.00 USD".
function methodPrice(m, currency) {
  const unit = m.kind === "weight" ? " g" : "";
  const min = (t) => (m.kind === "weight" ? `${Number(t.min)}${unit}` : money(t.min, currency));
  const price = m.kind === "flat" ? money(m.amount, currency)
    : `by ${m.kind} from ${m.tiers.map((t) => `${min(t)} ${money(t.amount, currency)}`).join(", ")}`;
  return m.free_over ? `${price}, free over ${money(m.free_over, currency)}` : price;
}

// Shipping zones: where the storefront ships, by which methods at what price, and the tax
// there. Shown as a table; edited on the shipping zones page (shippingzones.js).
function zonesSection(s) {
  const zones = s.shipping_zones || [];
  const shown = table("Shipping zones", [
    { label: "Zone", value: (z) => `${z.name} (${z.code})` },
    { label: "Where", value: (z) => [...z.countries.map((c) => c === "*" ? "every other country" : c), ...z.regions].join(", ") },
    { label: "Tax rate", value: (z) => z.tax_rate ?? `${s.tax.rate} (the storefront's)` },
    { label: "Methods (the first is the default)", value: (z) => z.methods.length
      ? z.methods.map((m) => `${m.name} (${m.code}): ${methodPrice(m, s.currency)}`).join("; ") : "not shipped to" }],
  zones, "No zones: one shipping charge and one tax rate everywhere.");
  const edit = h("p", {}, link(`#/shipping-zones?storefront=${encodeURIComponent(s.slug)}`, "Edit the shipping zones"));
  return [h("h2", { id: "shipping-zones" }, "Shipping zones"), shown, edit];
}
