// Urumi's admin: makes the store's own admin credentials (its Secret, which
// the platform gives the tenant) sign in. The setup Job (charts/medusa) runs
// it on every generation:
//   npx --no medusa exec ./src/scripts/admin.js
// It reads ADMIN_EMAIL and ADMIN_PASSWORD from the environment (never from
// its command line, which others on the node can read), and RESTORED ("true"
// when the generation restored a backup).
//
// - No admin user: created, with an email/password sign-in linked to it (what
//   `medusa user` does).
// - A user without an email/password sign-in: one is created and linked.
// - A sign-in that exists keeps its password, unless RESTORED is
//   "true": a restore or a clone, whose data came with the password of the
//   backup's time or of another store. Then it is set to ADMIN_PASSWORD with
//   the auth module's own provider update (Medusa's reset-password path,
//   which hashes it as a sign-in would).
import type { ExecArgs } from "@medusajs/framework/types"
import { ContainerRegistrationKeys, Modules } from "@medusajs/framework/utils"
import { createUsersWorkflow } from "@medusajs/medusa/core-flows"

type Container = ExecArgs["container"]

const PROVIDER = "emailpass"

function setting(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: the setup Job takes it from the store's Secret`)
  return value
}

async function adminUser(container: Container, email: string): Promise<string> {
  const users = container.resolve(Modules.USER)
  const [existing] = await users.listUsers({ email })
  if (existing) return existing.id
  const { result } = await createUsersWorkflow(container).run({ input: { users: [{ email }] } })
  return result[0].id
}

async function signIn(container: Container, email: string, password: string, userId: string) {
  const auth = container.resolve(Modules.AUTH)
  const { authIdentity, error } = await auth.register(PROVIDER, { body: { email, password } })
  if (error || !authIdentity) throw new Error(`admin sign-in not created: ${error ?? "no identity"}`)
  await auth.updateAuthIdentities({ id: authIdentity.id, app_metadata: { user_id: userId } })
}

async function resetPassword(container: Container, email: string, password: string) {
  const auth = container.resolve(Modules.AUTH)
  const { success, error } = await auth.updateProvider(PROVIDER, { entity_id: email, password })
  if (!success) throw new Error(`admin password not reset: ${error ?? "unknown error"}`)
}

// The sign-in must open this user: restored data, or a user made again, may
// leave it naming another id.
async function link(container: Container, authIdentityId: string, userId: string) {
  const auth = container.resolve(Modules.AUTH)
  const owner = await auth.retrieveAuthIdentity(authIdentityId)
  if (owner.app_metadata?.user_id === userId) return
  await auth.updateAuthIdentities({
    id: owner.id,
    app_metadata: { ...(owner.app_metadata ?? {}), user_id: userId },
  })
}

export default async function admin({ container }: ExecArgs) {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  const email = setting("ADMIN_EMAIL")
  const password = setting("ADMIN_PASSWORD")
  const reset = process.env.RESTORED === "true"
  const userId = await adminUser(container, email)
  const auth = container.resolve(Modules.AUTH)
  const [existing] = await auth.listProviderIdentities({ provider: PROVIDER, entity_id: email })
  if (!existing) {
    await signIn(container, email, password, userId)
    logger.info("admin sign-in created")
    return
  }
  await link(container, existing.auth_identity_id!, userId)
  if (reset) {
    await resetPassword(container, email, password)
    logger.info("admin password set to the store's own (restored data)")
  } else {
    logger.info("admin user exists")
  }
}
