"""The words invoices and credit notes print, in the order's language (`Order.locale`), and how
they write its dates and amounts (babel's CLDR data).

A dict per language rather than gettext catalogs: a few dozen short strings in two languages read
best side by side, and nothing has to be compiled. A language with no dict here, or no locale at
all (orders placed before they kept one), prints English. English keeps the invoices' long-standing
forms (`2026-11-30`, `32.24 USD`) so documents already issued reprint the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency

from atelier_common.money import quantize
from atelier_orders.domain import money_text

ENGLISH = "en"

_EN = {
    "invoice": "Invoice",
    "supplementary_invoice": "Supplementary invoice",
    "credit_note": "Credit note",
    "issued": "Issued",
    "order": "Order",
    "supplements_invoice": "Supplements invoice",
    "supplementing": "{title} {number} supplementing invoice {original}",
    "credits_invoice": "Credits invoice",
    "invoice_of": "{number} of {day}",
    "tax_number": "Tax number: {number}",
    "registration_number": "Registration number: {number}",
    "bill_to": "Bill to",
    "ship_to": "Ship to",
    "item": "Item",
    "sku": "SKU",
    "qty": "Qty",
    "unit_price": "Unit price",
    "amount": "Amount",
    "subtotal": "Subtotal",
    "discount": "Discount",
    "shipping": "Shipping",
    "shipping_by": "Shipping ({method})",
    "tax": "Tax",
    "tax_at": "Tax ({rate})",
    "tax_on": "Tax {rate} on {base}",
    "tax_included": "Tax {rate} included in {base}",
    "total_paid": "Total paid",
    "total_paid_edit": "Total paid for the edit",
    "description": "Description",
    "refund_of": "Refund of order {order}",
    "total_credited": "Total credited",
}

# Georgian: the demo storefront Storybook offers it beside English.
_KA = {
    "invoice": "ინვოისი",
    "supplementary_invoice": "დამატებითი ინვოისი",
    "credit_note": "საკრედიტო ნოტა",
    "issued": "გაცემის თარიღი",
    "order": "შეკვეთა",
    "supplements_invoice": "ავსებს ინვოისს",
    "supplementing": "{title} {number}, ავსებს ინვოისს {original}",
    "credits_invoice": "აკორექტირებს ინვოისს",
    "invoice_of": "{number}, {day}",
    "tax_number": "საიდენტიფიკაციო კოდი: {number}",
    "registration_number": "სარეგისტრაციო ნომერი: {number}",
    "bill_to": "გადამხდელი",
    "ship_to": "მიწოდების მისამართი",
    "item": "პროდუქტი",
    "sku": "SKU",
    "qty": "რაოდ.",
    "unit_price": "ფასი",
    "amount": "თანხა",
    "subtotal": "ქვეჯამი",
    "discount": "ფასდაკლება",
    "shipping": "მიწოდება",
    "shipping_by": "მიწოდება ({method})",
    "tax": "გადასახადი",
    "tax_at": "გადასახადი ({rate})",
    "tax_on": "გადასახადი {rate} თანხაზე {base}",
    "tax_included": "გადასახადი {rate}, შედის თანხაში {base}",
    "total_paid": "სულ გადახდილი",
    "total_paid_edit": "სულ გადახდილი ცვლილებისთვის",
    "description": "აღწერა",
    "refund_of": "შეკვეთის {order} თანხის დაბრუნება",
    "total_credited": "სულ დაბრუნებული",
}

LABELS: dict[str, dict[str, str]] = {ENGLISH: _EN, "ka": _KA}


@dataclass(frozen=True)
class Labels:
    """One language's words and forms; `Labels.of(order.locale)`."""

    language: str

    @classmethod
    def of(cls, locale: str | None) -> Labels:
        """The labels of `locale`'s language (`ka-GE` → `ka`), English when there are none."""
        try:
            language = Locale.parse(locale.replace("_", "-"), sep="-").language if locale else ENGLISH
        except (ValueError, UnknownLocaleError):
            language = ENGLISH
        return cls(language if language in LABELS else ENGLISH)

    def __call__(self, key: str, **values: str) -> str:
        return LABELS[self.language][key].format(**values)

    def day(self, moment: datetime) -> str:
        if self.language == ENGLISH:
            return moment.date().isoformat()
        return format_date(moment.date(), format="medium", locale=self.language)

    def money(self, amount: Decimal, currency: str) -> str:
        """`12,00 US$` in Georgian: CLDR's pattern, its spaces no-break ones (the tables never wrap
        an amount)."""
        if self.language == ENGLISH:
            return money_text(amount, currency)
        return format_currency(quantize(amount), currency, locale=self.language)
