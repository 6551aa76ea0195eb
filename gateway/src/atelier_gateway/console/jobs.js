// Generation jobs (support's): the failed or blocked ones, and retrying a failed one. A customer's
// page lists theirs with the same table.

import { call, get, hasRole, newKey } from "./api.js";
import { customerRef } from "./ops.js";
import { filterForm, PAGE_SIZE, pager, pageServed, V1, write } from "./kit.js";
import { actionButton, announce, h, table, when } from "./ui.js";

export function jobTable(jobs, ctx) {
  return table("Generation jobs", [
    { label: "Job", value: (j) => j.id }, { label: "Created", value: (j) => when(j.created_at) },
    { label: "Owner", value: (j) => customerRef(j.owner_id) },
    { label: "Kind", value: (j) => j.kind }, { label: "Model", value: (j) => j.model }, { label: "Status", value: (j) => j.status },
    { label: "Attempts", value: (j) => j.attempts, num: true }, { label: "Error", value: (j) => j.error || "" },
    // Only a failed job may run again (a blocked one waits for its cause).
    { label: "Action", value: (j) => j.status === "failed" && hasRole("support") ? retryButton(j, ctx) : "" }],
  jobs, "No job.");
}

function retryButton(job, ctx) {
  const key = newKey();
  return actionButton("Retry", () => write(ctx, () => call("POST", `${V1}/staff/jobs/${job.id}/retry`, { body: {}, headers: { "Idempotency-Key": key } }),
    () => `Job ${job.id} queued again.`), { "aria-label": `Retry job ${job.id}`, class: "secondary" });
}

export async function jobs(root, ctx) {
  if (!(await pageServed(root, "Generation jobs", `${V1}/staff/jobs`))) return;
  root.append(filterForm(ctx, "jobs", {
    id: "job-filter", legend: "Jobs", submit: "Show",
    fields: [{ name: "status", label: "Status", type: "select", value: ctx.query.status || "failed", options: [["failed", "failed"], ["blocked", "blocked"]] }],
  }));
  const page = await get(`${V1}/staff/jobs`, { status: ctx.query.status || "failed", limit: PAGE_SIZE, offset: ctx.query.offset });
  const region = h("div", { id: "results" }, jobTable(page.results, ctx), pager(ctx, "jobs", page));
  root.append(region);
  if (!ctx.stale()) announce(`${page.count} jobs found`);
}
