"""API models of the orders service; their field names are the public contract's (within /api/v1 none is
renamed: docs/api.md).

Requests carry what the customer chooses (products, quantities, addresses), never an amount:
unknown fields such as `unit_price` or `total_amount` are ignored, and every price comes from
catalog.

One module per resource, as the routers use them:

- `_shared`: what several resources share: the request and read bases, quantities, rates, storefront slugs;
- `orders`: placing, cancelling and reading an order (the customer's routes);
- `shipping`: the shipping methods offered for a cart;
- `staff`: staff's order search, its picture of an order, the daily figures;
- `internal`: what other services send and read (`/internal`);
- `invoices`: invoices and credit notes;
- `returns`: returns and their lines;
- `promotions`: promotions, and the cart's quote of them.
"""

from atelier_orders.schemas._shared import MAX_LINES, Quantity, Rate, StorefrontSlug
from atelier_orders.schemas.internal import InternalOrderCreate, InternalOrderRead, StorefrontOrders
from atelier_orders.schemas.invoices import (
           BuyerRead,
           CreditNoteLink,
           CreditNoteRead,
           CreditNoteSummaryRead,
           DocumentQuery,
           InvoiceLineRead,
           InvoiceRead,
           InvoiceSummaryRead,
           InvoiceTaxRead,
           SellerRead,
)
from atelier_orders.schemas.orders import (
           Note,
           OrderCancel,
           OrderCreate,
           OrderDiscountRead,
           OrderItemCreate,
           OrderItemRead,
           OrderQuery,
           OrderRead,
           OrderShippingMethodRead,
           OrderStatusUpdate,
           OrderSummaryRead,
           Sku,
           StatusHistoryRead,
           TaxNumber,
)
from atelier_orders.schemas.promotions import (
           PromotionAmount,
           PromotionCode,
           PromotionCreate,
           PromotionName,
           PromotionQuery,
           PromotionQuoteRequest,
           PromotionRead,
           PromotionWrite,
           QuoteLine,
           QuoteShipping,
           Uses,
)
from atelier_orders.schemas.returns import (
           ClaimCreate,
           ExchangeCreate,
           ExchangePreview,
           ReturnCreate,
           ReturnLineCreate,
           ReturnLineRead,
           ReturnLineReceive,
           ReturnRead,
           ReturnReason,
           ReturnReceive,
           ReturnReject,
           StaffReturnQuery,
)
from atelier_orders.schemas.shipping import ShippingMethodItemRead, ShippingMethodsQuery
from atelier_orders.schemas.staff import (
           DailyOrdersRead,
           OrderMoneyRead,
           PaidOrderRead,
           PaidOrdersRead,
           StaffOrderQuery,
           StaffOrderRead,
           StaffOrderSummaryRead,
)

__all__ = ["MAX_LINES", "BuyerRead", "ClaimCreate", "CreditNoteLink", "CreditNoteRead", "CreditNoteSummaryRead",
           "DailyOrdersRead", "DocumentQuery", "ExchangeCreate", "ExchangePreview", "InternalOrderCreate",
           "InternalOrderRead", "InvoiceLineRead", "InvoiceRead", "InvoiceSummaryRead", "InvoiceTaxRead", "Note",
           "OrderCancel", "OrderCreate", "OrderDiscountRead", "OrderItemCreate", "OrderItemRead", "OrderMoneyRead",
           "OrderQuery", "OrderRead", "OrderShippingMethodRead", "OrderStatusUpdate", "OrderSummaryRead",
           "PaidOrderRead", "PaidOrdersRead", "PromotionAmount",
           "PromotionCode", "PromotionCreate", "PromotionName", "PromotionQuery", "PromotionQuoteRequest",
           "PromotionRead", "PromotionWrite", "Quantity", "QuoteLine", "QuoteShipping", "Rate", "ReturnCreate",
           "ReturnLineCreate", "ReturnLineRead", "ReturnLineReceive", "ReturnRead", "ReturnReason", "ReturnReceive",
           "ReturnReject", "SellerRead", "ShippingMethodItemRead", "ShippingMethodsQuery", "Sku", "StaffOrderQuery",
           "StaffOrderRead", "StaffOrderSummaryRead", "StaffReturnQuery", "StatusHistoryRead", "StorefrontOrders",
           "StorefrontSlug", "TaxNumber", "Uses"]
