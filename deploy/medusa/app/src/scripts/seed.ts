// Urumi's seed: what a new store needs to take an order, and nothing more.
// The setup Job (charts/medusa) runs it once on an empty database:
//   npx --no medusa exec ./src/scripts/seed.js
// It creates the store currencies, a default sales channel, one region with
// the system payment provider, tax regions, a stock location shipping with the
// manual fulfillment provider, two flat-rate shipping options, a publishable
// API key and a few products with stock. Every write goes through a
// core-flows workflow, so the same events, links and price preferences are
// made as by the admin API.
import type { ExecArgs } from "@medusajs/framework/types"
import {
  ContainerRegistrationKeys,
  Modules,
  ProductStatus,
} from "@medusajs/framework/utils"
import {
  createApiKeysWorkflow,
  createInventoryLevelsWorkflow,
  createLinksWorkflow,
  createLocationFulfillmentSetWorkflow,
  createProductsWorkflow,
  createRegionsWorkflow,
  createSalesChannelsWorkflow,
  createServiceZonesWorkflow,
  createShippingOptionsWorkflow,
  createShippingProfilesWorkflow,
  createStockLocationsWorkflow,
  createTaxRegionsWorkflow,
  linkSalesChannelsToApiKeyWorkflow,
  linkSalesChannelsToStockLocationWorkflow,
  updateStoresWorkflow,
} from "@medusajs/medusa/core-flows"

type Container = ExecArgs["container"]

const COUNTRIES = ["gb", "de", "fr", "nl", "es", "it", "dk", "se"]
const SALES_CHANNEL = "Default Sales Channel"
const SYSTEM_PAYMENT = "pp_system_default"
const MANUAL_FULFILLMENT = "manual_manual"

// Prices are in major units (Medusa v2 stores decimals).
const PRODUCTS = [
  { title: "Urumi T-Shirt", handle: "t-shirt", sizes: ["S", "M", "L", "XL"], eur: 20, usd: 22 },
  { title: "Urumi Hoodie", handle: "hoodie", sizes: ["M", "L"], eur: 45, usd: 49 },
  { title: "Urumi Mug", handle: "mug", sizes: [], eur: 9, usd: 10 },
]

async function findOne(container: Container, entity: string, filters: object, fields = ["id"]) {
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data } = await query.graph({ entity, fields, filters })
  return data[0] as Record<string, any> | undefined
}

async function salesChannel(container: Container): Promise<string> {
  const existing = await findOne(container, "sales_channel", { name: SALES_CHANNEL })
  if (existing) return existing.id
  const { result } = await createSalesChannelsWorkflow(container).run({
    input: { salesChannelsData: [{ name: SALES_CHANNEL }] },
  })
  return result[0].id
}

async function configureStore(container: Container, salesChannelId: string) {
  const store = await findOne(container, "store", {})
  if (!store) throw new Error("no store: run `medusa db:migrate` first")
  await updateStoresWorkflow(container).run({
    input: {
      selector: { id: store.id },
      update: {
        supported_currencies: [
          { currency_code: "eur", is_default: true },
          { currency_code: "usd" },
        ],
        default_sales_channel_id: salesChannelId,
      },
    },
  })
  return store.id as string
}

async function region(container: Container): Promise<string> {
  const { result } = await createRegionsWorkflow(container).run({
    input: {
      regions: [
        {
          name: "Europe",
          currency_code: "eur",
          countries: COUNTRIES,
          payment_providers: [SYSTEM_PAYMENT],
        },
      ],
    },
  })
  await createTaxRegionsWorkflow(container).run({
    input: COUNTRIES.map((country_code) => ({ country_code, provider_id: "tp_system" })),
  })
  return result[0].id
}

async function stockLocation(container: Container, storeId: string, salesChannelId: string) {
  const { result } = await createStockLocationsWorkflow(container).run({
    input: {
      locations: [
        { name: "Main warehouse", address: { address_1: "1 Dock Road", city: "Rotterdam", country_code: "NL" } },
      ],
    },
  })
  const locationId = result[0].id
  await updateStoresWorkflow(container).run({
    input: { selector: { id: storeId }, update: { default_location_id: locationId } },
  })
  // The location ships with the manual provider and sells on the channel.
  await createLinksWorkflow(container).run({
    input: [
      {
        [Modules.STOCK_LOCATION]: { stock_location_id: locationId },
        [Modules.FULFILLMENT]: { fulfillment_provider_id: MANUAL_FULFILLMENT },
      },
    ],
  })
  await linkSalesChannelsToStockLocationWorkflow(container).run({
    input: { id: locationId, add: [salesChannelId] },
  })
  return locationId
}

async function shippingProfile(container: Container): Promise<string> {
  const existing = await findOne(container, "shipping_profile", { type: "default" })
  if (existing) return existing.id
  const { result } = await createShippingProfilesWorkflow(container).run({
    input: { data: [{ name: "Default Shipping Profile", type: "default" }] },
  })
  return result[0].id
}

async function shipping(container: Container, locationId: string, regionId: string) {
  await createLocationFulfillmentSetWorkflow(container).run({
    input: { location_id: locationId, fulfillment_set_data: { name: "Main warehouse delivery", type: "shipping" } },
  })
  const location = await findOne(container, "stock_location", { id: locationId }, ["fulfillment_sets.id"])
  const { result: zones } = await createServiceZonesWorkflow(container).run({
    input: {
      data: [
        {
          fulfillment_set_id: location!.fulfillment_sets[0].id,
          name: "Europe",
          geo_zones: COUNTRIES.map((country_code) => ({ type: "country" as const, country_code })),
        },
      ],
    },
  })
  const profileId = await shippingProfile(container)
  const option = (name: string, code: string, description: string, eur: number, usd: number) => ({
    name,
    price_type: "flat" as const,
    provider_id: MANUAL_FULFILLMENT,
    service_zone_id: zones[0].id,
    shipping_profile_id: profileId,
    type: { label: name, code, description },
    prices: [
      { currency_code: "eur", amount: eur },
      { currency_code: "usd", amount: usd },
      { region_id: regionId, amount: eur },
    ],
    // Shown to shoppers, and not a return option.
    rules: [
      { attribute: "enabled_in_store", value: "true", operator: "eq" as const },
      { attribute: "is_return", value: "false", operator: "eq" as const },
    ],
  })
  await createShippingOptionsWorkflow(container).run({
    input: [
      option("Standard Shipping", "standard", "Delivered in 2-4 days.", 5, 6),
      option("Express Shipping", "express", "Delivered the next day.", 15, 16),
    ],
  })
  return profileId
}

async function publishableKey(container: Container, salesChannelId: string) {
  let key = await findOne(container, "api_key", { type: "publishable" })
  if (!key) {
    const { result } = await createApiKeysWorkflow(container).run({
      input: { api_keys: [{ title: "Storefront", type: "publishable", created_by: "" }] },
    })
    key = result[0]
  }
  await linkSalesChannelsToApiKeyWorkflow(container).run({
    input: { id: key!.id, add: [salesChannelId] },
  })
}

function productInput(p: (typeof PRODUCTS)[number], salesChannelId: string, profileId: string) {
  const prices = [
    { currency_code: "eur", amount: p.eur },
    { currency_code: "usd", amount: p.usd },
  ]
  const sku = p.handle.toUpperCase()
  // A product without sizes still has one option and one variant.
  const sizes = p.sizes.length ? p.sizes : ["One size"]
  return {
    title: p.title,
    handle: p.handle,
    description: `${p.title}, from the Urumi demo catalogue.`,
    status: ProductStatus.PUBLISHED,
    weight: 400,
    shipping_profile_id: profileId,
    sales_channels: [{ id: salesChannelId }],
    options: [{ title: "Size", values: sizes }],
    variants: sizes.map((size) => ({
      title: size,
      sku: p.sizes.length ? `${sku}-${size}` : sku,
      options: { Size: size },
      manage_inventory: true,
      prices,
    })),
  }
}

async function products(container: Container, salesChannelId: string, profileId: string, locationId: string) {
  await createProductsWorkflow(container).run({
    input: { products: PRODUCTS.map((p) => productInput(p, salesChannelId, profileId)) },
  })
  // Every variant got an inventory item; stock them all at the one location.
  const query = container.resolve(ContainerRegistrationKeys.QUERY)
  const { data: items } = await query.graph({ entity: "inventory_item", fields: ["id"] })
  await createInventoryLevelsWorkflow(container).run({
    input: {
      inventory_levels: items.map((item: { id: string }) => ({
        inventory_item_id: item.id,
        location_id: locationId,
        stocked_quantity: 1000,
      })),
    },
  })
}

export default async function seed({ container }: ExecArgs) {
  const logger = container.resolve(ContainerRegistrationKeys.LOGGER)
  if (await findOne(container, "region", {})) {
    logger.info("seed: the store already has a region; nothing to do")
    return
  }
  logger.info("seed: store, sales channel, region, tax regions")
  const salesChannelId = await salesChannel(container)
  const storeId = await configureStore(container, salesChannelId)
  const regionId = await region(container)
  logger.info("seed: stock location, fulfillment, shipping options")
  const locationId = await stockLocation(container, storeId, salesChannelId)
  const profileId = await shipping(container, locationId, regionId)
  logger.info("seed: publishable API key, products, inventory")
  await publishableKey(container, salesChannelId)
  await products(container, salesChannelId, profileId, locationId)
  logger.info("seed: done")
}
