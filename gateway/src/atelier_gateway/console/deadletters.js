// Dead letters (the gateway's staff API, gateway/src/atelier_gateway/deadletters.py): support reads
// them, the admin replays or drops them, one at a time or all of a consumer's after a confirmation.
// A replayed message goes back through the consumer's queue and inbox: applied at most once.

import { call, get, hasRole } from "./api.js";
import { V1, write } from "./kit.js";
import { confirmButton, pretty, readableError, shortId } from "./ops.js";
import { actionButton, facts, go, h, link, table, when } from "./ui.js";

const base = (consumer) => `${V1}/staff/dead-letters/${encodeURIComponent(consumer)}`;
const letterHash = (consumer, id) => `#/dead-letters/${encodeURIComponent(consumer)}/${encodeURIComponent(id)}`;

// From a letter's own page the action goes back to the list (the letter is no longer there).
async function act(ctx, run, done, after) {
  if (!after) return write(ctx, run, done);
  const answer = await run();
  await go(after, ctx, done(answer));
  return answer;
}

function replayOne(consumer, letter, ctx, after) {
  return actionButton("Replay", () => act(ctx, () => call("POST", `${base(consumer)}/replay`, { body: { ids: [letter.id] } }),
    (r) => `${r.replayed} message replayed.`, after), { "aria-label": `Replay ${letter.type} ${String(letter.id).slice(0, 8)}`, class: "secondary" });
}

function dropOne(consumer, letter, ctx, after) {
  return confirmButton("Drop", {
    title: `Drop this ${letter.type} message?`, confirm: "Drop it",
    message: `Message ${letter.id} is deleted for good: ${consumer} never handles it. This cannot be undone.` },
  () => act(ctx, () => call("POST", `${base(consumer)}/drop`, { body: { ids: [letter.id] } }),
    (r) => `${r.dropped} message dropped.`, after), { "aria-label": `Drop ${letter.type} ${String(letter.id).slice(0, 8)}`, class: "secondary" });
}

export async function deadLetters(root, ctx) {
  const [consumer, id] = ctx.args;
  if (consumer && id) return deadLetter(root, ctx, consumer, id);
  root.append(h("h1", {}, "Dead letters"));
  if (!consumer) {
    const answer = await get(`${V1}/staff/dead-letters`);
    root.append(table("Dead letters per consumer", [
      { label: "Consumer", value: (c) => link(`#/dead-letters/${encodeURIComponent(c.consumer)}`, c.consumer) },
      { label: "Messages", value: (c) => c.count, num: true }], answer.consumers.filter((c) => c.count > 0), "No dead letters."));
    return;
  }
  const answer = await get(base(consumer), { limit: 100 });
  root.append(h("p", {}, link("#/dead-letters", "← Every consumer")), h("h2", {}, consumer));
  const admin = hasRole("admin");
  if (admin && answer.results.length) {
    root.append(h("div", { class: "actions" }, confirmButton("Replay all", {
      title: `Replay every dead letter of ${consumer}?`, confirm: `Replay all ${answer.results.length}`,
      message: `${consumer} handles each of these messages again (each at most once); the ones that fail again come back here.` },
    () => write(ctx, () => call("POST", `${base(consumer)}/replay`, { body: { all: true } }), (r) => `${r.replayed} messages replayed.`))));
  }
  const columns = [
    { label: "Event", value: (d) => shortId(d.id, letterHash(consumer, d.id)) }, { label: "Type", value: (d) => d.type },
    { label: "Occurred", value: (d) => when(d.occurred_at) }, { label: "Retries", value: (d) => d.retries, num: true },
    { label: "Error", value: (d) => readableError(d.error) }];
  if (admin) columns.push({ label: "Action", value: (d) => h("div", { class: "actions" }, replayOne(consumer, d, ctx), dropOne(consumer, d, ctx)) });
  root.append(table(`Dead letters of ${consumer}`, columns, answer.results, "No dead letters."));
}

async function deadLetter(root, ctx, consumer, id) {
  const letter = await get(`${base(consumer)}/${encodeURIComponent(id)}`);
  const back = `#/dead-letters/${encodeURIComponent(consumer)}`;
  root.append(h("p", {}, link(back, `← Dead letters of ${consumer}`)), h("h1", {}, `Dead letter ${letter.type}`));
  root.append(facts([["Event", letter.id], ["Consumer", consumer], ["Type", letter.type], ["Occurred", when(letter.occurred_at)],
    ["Correlation", letter.correlation_id || "—"], ["Retries", letter.retries], ["Error", readableError(letter.error)]]));
  if (hasRole("admin")) root.append(h("div", { class: "actions" }, replayOne(consumer, letter, ctx, back), dropOne(consumer, letter, ctx, back)));
  root.append(h("h2", {}, "Envelope"),
    letter.envelope ? h("div", { id: "envelope" }, pretty(letter.envelope))
                    : [h("p", { class: "muted" }, "Not a readable envelope; the raw body:"), h("pre", { id: "envelope" }, String(letter.body ?? ""))]);
}
