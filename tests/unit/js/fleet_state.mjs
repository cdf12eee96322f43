// Runs dashboard/js/fleet-state.js on cases from
// tests/unit/test_dashboard_fleet_state.py. Reads JSON on stdin: a list of
// {name, fleet, steps}, each step {list: [summary…]} | {detail: {fleet, stores}} |
// {event: <the bus event>}, in the order the page would see them. Writes, per
// case: whether each step's event was applied, the fleets newest first (id, state,
// counts, updated_at), `fleet`'s stores by wave, and what its state allows.

import "./dashboard_modules.mjs";
import { readFileSync } from "node:fs";

const fleetState = await import("../../../dashboard/js/fleet-state.js");
const { applyProgress, controls, fleetsNewestFirst, newFleetBook, putDetail, putFleets, waves } = fleetState;

function run({ fleet, steps }) {
  const book = newFleetBook();
  const applied = steps.map((step) => {
    if (step.list) return putFleets(book, step.list);
    if (step.detail) return putDetail(book, step.detail);
    return applyProgress(book, step.event);
  });
  const fleets = fleetsNewestFirst(book).map(({ id, state, counts, updated_at: at }) => ({ id, state, counts, updated_at: at }));
  const state = book.fleets.get(fleet)?.state;
  return { applied, fleets, waves: waves(book, fleet), controls: state ? controls(state) : null };
}

const cases = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(Object.fromEntries(cases.map((c) => [c.name, run(c)]))));
