// Runs dashboard/js/panel-state.js on cases from
// tests/unit/test_dashboard_panel_state.py. Reads JSON on stdin: a list of
// {name, steps}, each step, in the order the page would meet them, one of
// {ask: true} (the Domains panel sends its GET), {domains: [view…]} (that GET's
// answer), {domain: view} (an add's answer), {drop: name} (a DELETE's answer),
// {backups: [view…]} (a GET's or "Back up now"'s answer) or {event: <the bus
// event>}. Writes, per case: whether each step changed what is shown, the
// domains in order and the backups newest first, each backup with whether a
// store can start from it.

import "./dashboard_modules.mjs";
import { readFileSync } from "node:fs";

const panels = await import("../../../dashboard/js/panel-state.js");

function run({ steps }) {
  const domains = panels.newDomainBook();
  const backups = panels.newBackupBook();
  let asked = null;
  const applied = steps.map((step) => {
    if (step.ask) asked = domains.heard;
    else if (step.domains) panels.putDomainList(domains, step.domains, asked);
    else if (step.domain) return panels.putDomain(domains, step.domain);
    else if (step.drop) panels.dropDomain(domains, step.drop);
    else if (step.backups) panels.putBackups(backups, step.backups);
    else if (step.event.type === "domain-status") return panels.applyDomainStatus(domains, step.event);
    else return panels.applyBackupStatus(backups, step.event);
    return null;
  });
  return {
    applied,
    domains: panels.domainsInOrder(domains).map(({ domain, state, reason, records }) => ({ domain, state, reason, records })),
    backups: panels.backupsNewestFirst(backups).map((b) => ({
      id: b.id, trigger: b.trigger, state: b.state, size_bytes: b.size_bytes, message: b.message,
      created_at: b.created_at, completed_at: b.completed_at, restorable: panels.restorable(b),
    })),
  };
}

const cases = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(Object.fromEntries(cases.map((c) => [c.name, run(c)]))));
