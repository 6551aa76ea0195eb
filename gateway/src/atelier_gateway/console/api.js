// The console's one way to the staff API: same origin, the staffer's bearer token, the common
// error format turned into ApiError. Tokens live in this tab's sessionStorage only (gone when the
// tab closes); the refresh token is sent in the body, never kept in a cookie the console reads.

const KEY = "atelier.console.session";

let session = load();

function load() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; }
}

function save(value) {
  session = value;
  if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
  else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The request failed (${status})`);
    this.status = status;
    this.code = error.code || "HTTP_" + status;
    this.details = error.details || {};
  }
}

export function currentUser() { return session ? session.user : null; }

export function roles() { return (session && session.user && session.user.roles) || []; }

// Whether the staffer may use something that needs one of `wanted` (an admin may use everything).
// This only decides what the console shows: every service checks the role again.
export function hasRole(...wanted) {
  const mine = roles();
  return mine.includes("staff") && (mine.includes("admin") || wanted.some((r) => mine.includes(r)));
}

// A staff token's roles are `customer`, `staff` and its staff roles (identity names them; the console
// lists none of its own).
export function staffRoles() { return roles().filter((r) => r !== "customer" && r !== "staff"); }

// A fresh Idempotency-Key: one per form, so a double submit or a retry does the write once.
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// What a session asked for ends with it: signing out aborts the requests still in flight (their
// answers would be 401s for the token the sign-out revokes).
let inFlight = new AbortController();

async function send(method, path, { body, query, headers, anonymous = false, asBlob = false } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const all = { Accept: "application/json", ...(headers || {}) };
  // FormData (a file upload) goes as multipart, its boundary set by the browser.
  const multipart = body instanceof FormData;
  if (body !== undefined && !multipart) all["Content-Type"] = "application/json";
  if (session && session.access && !anonymous) all.Authorization = `Bearer ${session.access}`;
  const response = await fetch(url, { method, headers: all, credentials: "same-origin", signal: inFlight.signal,
                                      body: body === undefined || multipart ? body : JSON.stringify(body) });
  // A file (a PDF) is read as bytes; an error answer is still the common JSON format.
  if (asBlob && response.ok) return { response, json: null, text: "", blob: await response.blob() };
  const text = await response.text();
  let json = null;
  if (text) { try { json = JSON.parse(text); } catch { json = null; } }
  return { response, json, text };
}

let refreshing = null;

async function refresh() {
  if (!session || !session.refresh) return false;
  refreshing = refreshing || (async () => {
    // Without the dead access token: the gateway refuses a request that carries a bad one.
    const { response, json } = await send("POST", "/api/v1/auth/refresh", { body: { refresh: session.refresh }, anonymous: true });
    if (!session) return false;  // signed out meanwhile: the new tokens are not kept
    if (!response.ok) { save(null); return false; }
    save({ ...session, access: json.access, refresh: json.refresh || session.refresh });
    return true;
  })().finally(() => { refreshing = null; });
  return refreshing;
}

// Call the API; a 401 refreshes the access token once and retries. Throws ApiError on failure.
// `body` may be FormData (multipart); `asText` answers the body as text (a CSV) instead of JSON,
// `asBlob` as a Blob (a PDF: bytes that text would mangle).
export async function call(method, path, options = {}) {
  if (!session && !options.anonymous) {
    // Signed out while a page was still loading: its next calls are not made (they would be 401s).
    throw new ApiError(401, { error: { code: "NOT_SIGNED_IN", message: "Signed out." } });
  }
  const token = session && session.access;
  let { response, json, text, blob } = await send(method, path, options);
  // A call that ran beside another's refresh already has a newer token: retry, refresh no more.
  if (response.status === 401 && session && (session.access !== token || await refresh())) {
    ({ response, json, text, blob } = await send(method, path, options));
  }
  if (response.status === 401) {
    save(null);
    window.dispatchEvent(new CustomEvent("console:signed-out"));
  }
  if (!response.ok) throw new ApiError(response.status, json);
  return options.asBlob ? blob : options.asText ? text : json;
}

export const get = (path, query) => call("GET", path, { query });

export async function signIn(email, password) {
  const { response, json } = await send("POST", "/api/v1/auth/login", { body: { email, password } });
  if (!response.ok) throw new ApiError(response.status, json);
  const user = json.user || {};
  if (!(user.roles || []).includes("staff")) {
    // Sign the customer's new session out again: the console is for staff only.
    await fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${json.access}` } })
      .catch(() => null);
    throw new ApiError(403, { error: { code: "NOT_STAFF", message: "This account is not a staff account." } });
  }
  save({ access: json.access, refresh: json.refresh, user });
  return user;
}

export async function signOut() {
  // The session ends before the logout is sent: a page's call made while the logout is on its way
  // is not sent (`call` refuses it) rather than answered 401 once the token is revoked.
  const ending = session;
  save(null);
  inFlight.abort();
  inFlight = new AbortController();
  if (ending) {
    try {
      await send("POST", "/api/v1/auth/logout", { body: { refresh: ending.refresh }, anonymous: true,
                                                  headers: { Authorization: `Bearer ${ending.access}` } });
    } catch { /* gone anyway */ }
  }
}

// Which staff routes this platform has, from its merged OpenAPI document (read once whole): a page
// leaves out what a release does not serve yet instead of calling it and failing. A document the
// gateway could not read whole just now (a service's missing, `x-atelier-missing`, or none at all)
// leaves nothing out: the call is tried, and the document read again next time.
let known = null;
let schema = null;
const shape = (path) => path.replace(/\{[^}]*\}/g, "{}");
const MISSING = "x-atelier-missing";
const unread = { paths: {}, [MISSING]: ["gateway"] };
const partial = (doc) => (doc[MISSING] || []).length > 0;
const openapi = () => (schema = schema || fetch("/api/schema", { headers: { Accept: "application/json" } })
  .then((r) => (r.ok ? r.json() : unread))
  .catch(() => unread)
  .then((doc) => { if (partial(doc)) schema = null; return doc; }));

export async function serves(method, path) {
  const doc = await openapi();
  if (partial(doc)) return true;
  known = known || new Set(Object.entries(doc.paths || {}).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${shape(p)}`)));
  return known.has(`${method.toUpperCase()} ${shape(path)}`);
}

const named = (name, model) => name === model || name.endsWith(`__${model}`) || name.endsWith(`_${model}`);

// Whether a request body of this platform has a field (a form leaves out what a release lacks).
export async function schemaHas(model, field) {
  const doc = await openapi();
  if (partial(doc)) return true;
  const schemas = (doc.components || {}).schemas || {};
  return Object.keys(schemas).some((name) => named(name, model) && field in (schemas[name].properties || {}));
}

// The descriptions of a request body's fields, {field: text}, as the platform's OpenAPI document
// gives them (what an empty policy falls back to, say): the server says it, the console only shows it.
export async function schemaDescriptions(model) {
  const schemas = ((await openapi()).components || {}).schemas || {};
  const [found] = Object.keys(schemas).filter((name) => named(name, model));
  const properties = (found && schemas[found].properties) || {};
  return Object.fromEntries(Object.entries(properties).filter(([, p]) => p.description).map(([f, p]) => [f, p.description]));
}

// The values the platform's OpenAPI document allows (an enum, through `$ref`, `anyOf` and a list's
// items), so a form offers the server's list, never a copy of it; null when the document does not
// say (the service that owns it is missing from it just now).
function enumOf(doc, node, seen = 0) {
  if (!node || seen > 8) return null;
  if (node.$ref) return enumOf(doc, ((doc.components || {}).schemas || {})[node.$ref.split("/").pop()], seen + 1);
  if (Array.isArray(node.enum)) return node.enum;
  if (node.items) return enumOf(doc, node.items, seen + 1);
  for (const alternative of node.anyOf || node.oneOf || []) {
    const found = enumOf(doc, alternative, seen + 1);
    if (found) return found;
  }
  return null;
}

// A query parameter's values: `parameterChoices("GET", "/api/v1/staff/orders", "status")`.
export async function parameterChoices(method, path, name) {
  const doc = await openapi();
  const operation = ((doc.paths || {})[path] || {})[method.toLowerCase()] || {};
  const parameter = (operation.parameters || []).find((p) => p.name === name && p.in === "query");
  return enumOf(doc, parameter && parameter.schema);
}

// A request body's field's values (each item's, for a list): `fieldChoices("StaffAccountChange", "roles")`.
export async function fieldChoices(model, field) {
  const doc = await openapi();
  const schemas = (doc.components || {}).schemas || {};
  const [found] = Object.keys(schemas).filter((name) => named(name, model));
  return enumOf(doc, found && (schemas[found].properties || {})[field]);
}
