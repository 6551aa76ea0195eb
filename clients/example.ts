// A small program written against the generated TypeScript types (`make clients` runs
// `tsc --noEmit` on it): sign in, browse the catalog, fill the cart, read an order. Renaming a
// route, a field or a schema the frontends rely on breaks this check.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/atelier";

type Product = components["schemas"]["catalog__ProductRead"];

export async function shop(baseUrl: string, email: string, password: string, orderId: string): Promise<[string, string]> {
  const api = createClient<paths>({ baseUrl });
  const login = await api.POST("/api/v1/auth/login", { body: { email, password } });
  if (!login.data) throw new Error(login.error?.error.code ?? "login refused");
  const headers = { Authorization: `Bearer ${login.data.access}` };
  const page = await api.GET("/api/v1/products", { params: { query: { search: "mug", limit: 10 } }, headers });
  const product: Product | undefined = page.data?.results[0];
  if (!product) throw new Error("nothing found");
  const cart = await api.POST("/api/v1/cart/items", { body: { product_id: product.id, quantity: 2 }, headers });
  if (!cart.data) throw new Error(cart.error?.error.message ?? "not added");
  const order = await api.GET("/api/v1/orders/{order_id}", { params: { path: { order_id: orderId } }, headers });
  if (!order.data) throw new Error("no such order");
  return [cart.data.total, order.data.status];
}

// An integrator's program with an API key (clients/README.md): the key is the bearer token.
export async function shipPaidOrders(baseUrl: string, apiKey: string, after?: string): Promise<string | null> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
  const feed = await api.GET("/api/v1/staff/orders/paid", { params: { query: { after, limit: 50 } } });
  if (!feed.data) throw new Error(feed.error?.error.code ?? "refused");
  for (const order of feed.data.results) {
    if (order.status !== "paid") continue;
    const path = { order_id: order.id };
    await api.POST("/api/v1/orders/{order_id}/status", { params: { path }, body: { status: "processing" } });
    await api.POST("/api/v1/orders/{order_id}/status", {
      params: { path },
      body: { status: "shipped", tracking_number: "1Z999AA10123456784", note: "UPS" },
    });
  }
  return feed.data.next_cursor ?? null;
}
