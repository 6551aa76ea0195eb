// Outbound webhooks (the admin's; identity's /api/v1/webhook-endpoints, docs/webhooks.md): the
// endpoints, a new one (its signing secret shown once), each one's settings, its deliveries and
// replaying one.

import { call, get } from "./api.js";
import { V1, write } from "./kit.js";
import { confirmButton, readableError } from "./ops.js";
import { actionButton, announce, facts, form, go, h, link, table, when } from "./ui.js";

const URL_ = `${V1}/webhook-endpoints`;

// The event types identity offers (`GET /staff/webhooks/events`), and any an endpoint has that it no
// longer offers: the form shows every type the endpoint has, so saving it never drops one.
async function eventTypes(e) {
  const offered = (await get(`${V1}/staff/webhooks/events`)).map((t) => t.type);
  return [...offered, ...(e ? e.events.filter((t) => !offered.includes(t)) : [])];
}

function endpointFields(e, types) {
  return [
    { name: "url", label: "Receiver URL", type: "url", required: true, value: e && e.url },
    { name: "description", label: "Description", value: e && e.description },
    { name: "storefront", label: "Only this storefront (empty: all)", value: e && e.storefront },
    ...types.map((t) => ({ name: t, label: t, type: "checkbox", checked: !!(e && e.events.includes(t)) })),
  ];
}

function endpointBody(values, types) {
  return { url: values.url, description: values.description || null, storefront: values.storefront || null,
           events: types.filter((t) => values[t]) };
}

export async function webhooks(root, ctx) {
  const [id] = ctx.args;
  if (id) return endpointPage(root, ctx, id);
  root.append(h("h1", {}, "Webhooks"));
  const [page, types] = await Promise.all([get(URL_, { limit: 100 }), eventTypes(null)]);
  root.append(table("Webhook endpoints", [
    { label: "Receiver", value: (e) => link(`#/webhooks/${e.id}`, e.url) }, { label: "Description", value: (e) => e.description || "" },
    { label: "Events", value: (e) => e.events.join(", ") }, { label: "Storefront", value: (e) => e.storefront || "all" },
    { label: "State", value: (e) => e.enabled ? "enabled" : `disabled: ${e.disabled_reason || "by staff"}` }],
  page.results, "No webhook endpoint."));
  const secret = h("div", { id: "new-secret" });
  root.append(form({
    id: "webhook-new", legend: "Add an endpoint", submit: "Add endpoint", fields: endpointFields(null, types),
    onSubmit: async (values) => {
      const made = await call("POST", URL_, { body: endpointBody(values, types) });
      await ctx.reload();
      // Shown once: identity never shows the secret again.
      const box = document.getElementById("new-secret");
      box.append(h("h2", {}, "Signing secret"), h("p", {}, "Copy it now for the receiver: it is not shown again."),
        facts([["Endpoint", link(`#/webhooks/${made.id}`, made.url)], ["Secret", h("code", { id: "webhook-secret" }, made.secret)]]));
      announce(`Endpoint ${made.url} added.`);
    },
  }), secret);
}

async function endpointPage(root, ctx, id) {
  const e = await get(`${URL_}/${encodeURIComponent(id)}`);
  const types = await eventTypes(e);
  root.append(h("p", {}, link("#/webhooks", "← Webhooks")), h("h1", {}, `Webhook ${e.url}`));
  root.append(facts([["State", h("span", { id: "endpoint-state" }, e.enabled ? "enabled" : "disabled")],
    ["Why disabled", e.disabled_reason || "—"], ["Created", when(e.created_at)], ["Changed", when(e.updated_at)]]));
  const toggle = (enabled) => actionButton(enabled ? "Enable" : "Disable", () => write(ctx,
    () => call("PATCH", `${URL_}/${e.id}`, { body: { enabled } }), () => `The endpoint is ${enabled ? "enabled" : "disabled"}.`));
  root.append(h("div", { class: "actions" }, toggle(!e.enabled), confirmButton("Delete", {
    title: "Delete this endpoint?", confirm: "Delete it",
    message: `Nothing is sent to ${e.url} any more, and its delivery log goes with it. This cannot be undone.` },
  async () => {
    await call("DELETE", `${URL_}/${e.id}`);
    await go("#/webhooks", ctx, `Endpoint ${e.url} deleted.`);
  }, { class: "secondary" })));
  root.append(form({
    id: "webhook-edit", legend: "Settings", submit: "Save endpoint", fields: endpointFields(e, types),
    onSubmit: async (values) => write(ctx, () => call("PATCH", `${URL_}/${e.id}`, { body: endpointBody(values, types) }), () => "Endpoint saved."),
  }));
  const page = await get(`${URL_}/${e.id}/deliveries`, { limit: 50, offset: ctx.query.offset });
  root.append(h("h2", {}, "Deliveries"), table("Deliveries", [
    { label: "Created", value: (d) => when(d.created_at) }, { label: "Event", value: (d) => d.event_type },
    { label: "Message", value: (d) => d.webhook_id }, { label: "Status", value: (d) => d.status },
    { label: "Attempts", value: (d) => d.attempts.map((a) => a.status_code ?? "no answer").join(", ") || "none yet" },
    { label: "Last error", value: (d) => readableError(d.last_error) }, { label: "Next attempt", value: (d) => when(d.next_attempt_at) },
    { label: "Action", value: (d) => actionButton("Replay", () => write(ctx, () => call("POST", `${V1}/webhook-deliveries/${d.id}/replay`),
      () => `Delivery ${d.webhook_id} sent again.`), { class: "secondary", "aria-label": `Replay ${d.event_type} ${d.webhook_id}` }) }],
  page.results, "Nothing delivered yet."));
}
