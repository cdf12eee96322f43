// Urumi's medusa-config.ts: replaces the starter's at image build time.
// Everything per store comes from the environment the chart (charts/medusa)
// sets, so one image serves every store.
import { loadEnv, defineConfig } from "@medusajs/framework/utils"

loadEnv(process.env.NODE_ENV || "development", process.cwd())

const redisUrl = process.env.REDIS_URL
// The store's own URL of uploaded files (the server serves app/static at
// /static); unset, the local provider says http://localhost:9000/static.
const fileUrl = process.env.MEDUSA_FILE_URL

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    redisUrl,
    // "server" (store + admin APIs), "worker" (subscribers, scheduled jobs,
    // workflows) or "shared" (both, for local use).
    workerMode: (process.env.MEDUSA_WORKER_MODE || "shared") as
      | "shared"
      | "worker"
      | "server",
    http: {
      storeCors: process.env.STORE_CORS!,
      adminCors: process.env.ADMIN_CORS!,
      authCors: process.env.AUTH_CORS!,
      // No fallbacks: production refuses to start without real secrets.
      jwtSecret: process.env.JWT_SECRET,
      cookieSecret: process.env.COOKIE_SECRET,
    },
  },
  admin: {
    disable: process.env.DISABLE_MEDUSA_ADMIN === "true",
    // backendUrl stays unset at build time: the dashboard then calls the API on
    // its own origin, whatever the store's host is.
  },
  modules: [
    {
      resolve: "@medusajs/medusa/file",
      options: {
        providers: [
          {
            resolve: "@medusajs/medusa/file-local",
            id: "local",
            options: { backend_url: fileUrl },
          },
        ],
      },
    },
    // Server and worker share events, cache, workflow state and locks through
    // Redis; the in-memory defaults would split them per process.
    ...(redisUrl
      ? [
          {
            resolve: "@medusajs/medusa/cache-redis",
            options: { redisUrl },
          },
          {
            resolve: "@medusajs/medusa/event-bus-redis",
            options: { redisUrl },
          },
          {
            resolve: "@medusajs/medusa/workflow-engine-redis",
            options: { redis: { redisUrl } },
          },
          {
            resolve: "@medusajs/medusa/locking",
            options: {
              providers: [
                {
                  resolve: "@medusajs/medusa/locking-redis",
                  id: "locking-redis",
                  is_default: true,
                  options: { redisUrl },
                },
              ],
            },
          },
        ]
      : []),
  ],
})
