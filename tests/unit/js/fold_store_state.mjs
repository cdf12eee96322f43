// Folds tests/vectors/store_state.json with the dashboard's own code, for
// tests/unit/test_store_state_vectors.py. Reads {vectors, next_steps} as JSON on
// stdin: the vector file and the table the gateway serves. Writes, as JSON, each
// vector's resulting store view and what format.js tells the user to do about
// every reason asked for.

import "./dashboard_modules.mjs";
import { readFileSync } from "node:fs";

const { nextStep, useNextSteps } = await import("../../../dashboard/js/format.js");
const { applyFrame, state } = await import("../../../dashboard/js/state.js");

const { vectors: file, next_steps: table, reasons } = JSON.parse(readFileSync(0, "utf8"));
useNextSteps(table);

const STORE = "shop";

function fold(vector) {
  state.stores.clear();
  state.timelines.clear();
  state.stores.set(STORE, { id: STORE, ...file.state_defaults, ...vector.initial });
  // Through applyFrame, as the notifier's frames reach the page.
  vector.events.forEach((event, i) => {
    applyFrame({ type: "event", seq: i + 1, event: { ...file.defaults[event.type], ...event } });
  });
  const view = state.stores.get(STORE);
  return { ...view, next_step: nextStep(view.reason) };
}

const out = {
  folded: Object.fromEntries(file.vectors.map((v) => [v.name, fold(v)])),
  next_steps: Object.fromEntries(reasons.map((r) => [r, nextStep(r)])),
};
process.stdout.write(JSON.stringify(out));
