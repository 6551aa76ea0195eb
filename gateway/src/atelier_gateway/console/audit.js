// The audit log (the admin's): every service's staff writes, by action, target and actor, each with
// its state before and after.

import { get, hasRole } from "./api.js";
import { customerRef, shortId } from "./ops.js";
import { filterForm, PAGE_SIZE, results, V1 } from "./kit.js";
import { h, when } from "./ui.js";

// An audit row's target as people read it: a customer by email, an order by its page's link.
function auditTarget(e) {
  const named = e.target_type === "user" ? customerRef(e.target)
    : e.target_type === "order" && hasRole("support", "finance") ? shortId(e.target, `#/orders/${e.target}`) : shortId(e.target);
  return h("span", {}, `${e.target_type} `, named);
}

export async function audit(root, ctx) {
  root.append(h("h1", {}, "Audit log"), filterForm(ctx, "audit", {
    id: "audit-filter", legend: "Filter", submit: "Show",
    fields: [{ name: "action", label: "Action", value: ctx.query.action, placeholder: "e.g. refund.create" },
             { name: "target", label: "Target id", value: ctx.query.target },
             { name: "actor", label: "Actor id", value: ctx.query.actor }],
  }));
  const page = await get(`${V1}/staff/audit`, { action: ctx.query.action, target: ctx.query.target, actor: ctx.query.actor,
                                                limit: PAGE_SIZE, offset: ctx.query.offset });
  const change = (e) => (e.before || e.after)
    ? h("details", {}, h("summary", {}, "Before / after"), h("pre", {}, `before: ${JSON.stringify(e.before)}\nafter: ${JSON.stringify(e.after)}`)) : "";
  results(root, "Audit entries", page, [
    { label: "When", value: (e) => when(e.at) }, { label: "Who", value: (e) => e.actor_email || customerRef(e.actor) },
    { label: "Roles", value: (e) => (e.roles || []).join(", ") }, { label: "Service", value: (e) => e.service },
    { label: "Action", value: (e) => e.action }, { label: "Target", value: auditTarget },
    { label: "Reason", value: (e) => e.reason || "" }, { label: "Change", value: change }], ctx, "audit");
}
