// The console's pages, one entry each: {path, title, roles (any of; empty = every staffer), render}.
// Every read and write is a staff API call; what a role may not do is not shown (the API still
// answers 403 to whoever tries). Only the registry: each page is a module of its own, and what pages
// share is kit.js's, so no page imports this module (app.js does).

import { apiKeys } from "./apikeys.js";
import { audit } from "./audit.js";
import { catalogPage } from "./catalog.js";
import { categoriesPage } from "./categories.js";
import { customerGroups } from "./customergroups.js";
import { customersPage } from "./customers.js";
import { dashboard } from "./dashboard.js";
import { deadLetters } from "./deadletters.js";
import { draftOrders } from "./drafts.js";
import { giftCards } from "./giftcards.js";
import { jobs } from "./jobs.js";
import { ledger } from "./ledger.js";
import { locations } from "./locations.js";
import { ordersPage } from "./orders.js";
import { priceLists } from "./pricelists.js";
import { promotions } from "./promotions.js";
import { returnsPage } from "./returns.js";
import { shippingZones } from "./shippingzones.js";
import { staff } from "./staff.js";
import { storefronts } from "./storefronts.js";
import { subscriptions } from "./subscriptions.js";
import { webhooks } from "./webhooks.js";

export const PAGES = [
  { path: "dashboard", title: "Dashboard", roles: [], render: dashboard },
  { path: "orders", title: "Orders", roles: ["support", "finance"], render: ordersPage },
  { path: "draft-orders", title: "Draft orders", roles: ["support"], render: draftOrders },
  { path: "returns", title: "Returns", roles: ["support", "finance"], render: returnsPage },
  { path: "customers", title: "Customers", roles: ["support"], render: customersPage },
  { path: "catalog", title: "Catalog", roles: [], render: catalogPage },
  { path: "categories", title: "Categories", roles: [], render: categoriesPage },
  { path: "price-lists", title: "Price lists", roles: ["merchandiser"], render: priceLists },
  { path: "locations", title: "Stock locations", roles: ["merchandiser"], render: locations },
  { path: "customer-groups", title: "Customer groups", roles: ["support", "merchandiser"], render: customerGroups },
  { path: "promotions", title: "Promotions", roles: ["merchandiser"], render: promotions },
  { path: "shipping-zones", title: "Shipping zones", roles: ["merchandiser"], render: shippingZones },
  { path: "jobs", title: "Generation jobs", roles: ["support"], render: jobs },
  { path: "subscriptions", title: "Subscriptions", roles: ["support", "finance"], render: subscriptions },
  { path: "ledger", title: "Ledger", roles: ["finance"], render: ledger },
  { path: "gift-cards", title: "Gift cards", roles: ["support"], render: giftCards },
  { path: "dead-letters", title: "Dead letters", roles: ["support"], render: deadLetters },
  { path: "storefronts", title: "Storefronts", roles: ["admin"], render: storefronts },
  { path: "webhooks", title: "Webhooks", roles: ["admin"], render: webhooks },
  { path: "staff", title: "Staff and roles", roles: ["admin"], render: staff },
  { path: "api-keys", title: "API keys", roles: ["admin"], render: apiKeys },
  { path: "audit", title: "Audit log", roles: ["admin"], render: audit },
];
