// Imported first by the runners here, so they can import the dashboard's files.
// Those are ES modules named .js with no package.json to say so (the gateway
// serves that directory as it is): tell Node, as a browser knows from
// <script type="module">.

import { register } from "node:module";

const HOOKS = `export async function load(url, context, next) {
  return next(url, url.includes("/dashboard/js/") ? { ...context, format: "module" } : context);
}`;
register(`data:text/javascript,${encodeURIComponent(HOOKS)}`);
