"""The one pricing function: every amount an order is charged, shown, refunded or invoiced comes
from `price` (docs/api.md#money-and-tax).

Pure: no I/O. Its callers gather what it needs (catalog's prices, the promotions' per-line
shares from `promotions.rules.evaluate`, the destination's tax rules and shipping cost from
`destinations.shipping_quote`) and keep what it answers: placement writes each line's discount and tax
as the order's rows, `GET /shipping-methods` shows one answer per method, the cart shows one
without a destination. The anchors are Saleor's `checkout/base_calculations.py` and Medusa's
adjustment and tax lines.

The rules, as tax offices apply them:
- A line's taxable base is its price (unit price × quantity) less its discount: a seller's
  discount lowers the tax (EU VAT, US sales tax).
- A line is taxed at its tax class's rate (`TaxRules.rate_of`: `standard`, `reduced`, `zero`).
- Shipping is taxed with the goods where the rules say so (`TaxRules.shipping_taxed`), on its
  cost less its discount (free shipping: nothing), at the standard rate whatever the goods' classes
  (the simplification many tax offices allow; no proportional split).
- A tax-exclusive line has its tax added; a tax-inclusive one contains it: base × rate / (1 + rate).
  Both are reported (`tax_amount`), only the added part is charged on top (`tax_included` says
  how much of it the prices hold already).
- Rounding, the one rule: the tax of each group of one rate that is added, and of each that is
  included, is computed on the group's summed bases and rounded half-up to the cent once (a tax
  office's per-rate total, as an invoice shows it: 427.50 of goods at 9 % → 38.48); each line's
  tax is its share of its group's, in proportion to its base, to the cent, largest remainder first
  (`promotions.rules.allocate`), so the lines' taxes add up to the group's exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from atelier_common.contracts.catalog import TaxClass, class_rate
from atelier_common.money import quantize
from atelier_orders.promotions.rules import allocate

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class TaxRules:
    """How the destination taxes: its standard rate and its tax classes' own, the kinds whose
    prices include tax, and whether (and how) shipping is taxed."""

    rate: Decimal
    inclusive_kinds: frozenset[str]
    shipping_taxed: bool = False
    # Whether the shipping cost includes its tax (a destination whose prices include tax).
    shipping_inclusive: bool = False
    # The tax classes with a rate of their own (`contracts.catalog.class_rate`).
    class_rates: Mapping[str, Decimal] = field(default_factory=dict)

    def rate_of(self, tax_class: str) -> Decimal:
        return class_rate(tax_class, self.rate, self.class_rates)


@dataclass(frozen=True)
class Line:
    kind: str
    unit_price: Decimal
    quantity: int
    # The promotions' share on this line (`promotions.rules.Quote.line_discounts`).
    discount: Decimal = ZERO
    tax_class: str = TaxClass.STANDARD.value


@dataclass(frozen=True)
class Charge:
    """One priced line, or the shipping: its price, discount, taxable base and tax."""

    amount: Decimal
    discount: Decimal
    tax_rate: Decimal
    tax: Decimal
    # True: `tax` is inside `amount`; False: `tax` is added on top of it.
    tax_inclusive: bool

    @property
    def base(self) -> Decimal:
        """What the tax is computed on (and, tax-exclusive, what is charged before tax)."""
        return self.amount - self.discount

    @property
    def charged(self) -> Decimal:
        """What the buyer pays for it: the base, plus its tax when the tax is added."""
        return self.base + (ZERO if self.tax_inclusive else self.tax)


@dataclass(frozen=True)
class Priced:
    lines: tuple[Charge, ...]
    # None: nothing is shipped.
    shipping: Charge | None

    @property
    def subtotal(self) -> Decimal:
        return quantize(sum((line.amount for line in self.lines), ZERO))

    @property
    def discount(self) -> Decimal:
        """What the lines save (free shipping shows as the shipping's own discount)."""
        return quantize(sum((line.discount for line in self.lines), ZERO))

    @property
    def shipping_cost(self) -> Decimal:
        """Shipping as charged, before any tax added on it: its cost less its discount."""
        return self.shipping.base if self.shipping is not None else ZERO

    @property
    def shipping_tax(self) -> Decimal:
        return self.shipping.tax if self.shipping is not None else ZERO

    def _charges(self) -> tuple[Charge, ...]:
        return self.lines + ((self.shipping,) if self.shipping is not None else ())

    @property
    def tax_amount(self) -> Decimal:
        """All the tax: added on top and included in the prices."""
        return quantize(sum((charge.tax for charge in self._charges()), ZERO))

    @property
    def tax_included(self) -> Decimal:
        """The part of `tax_amount` the prices include (nothing is added for it)."""
        return quantize(sum((charge.tax for charge in self._charges() if charge.tax_inclusive), ZERO))

    @property
    def total(self) -> Decimal:
        """subtotal − discount + shipping + the tax added (= every charge's `charged`)."""
        return quantize(self.subtotal - self.discount + self.shipping_cost + self.tax_amount - self.tax_included)


def price(lines: Sequence[Line], tax: TaxRules, *, shipping: Decimal | None = None,
          free_shipping: bool = False) -> Priced:
    """`lines` priced under `tax`, with `shipping` (its cost; None: nothing shipped) given away when
    `free_shipping` (see the module's rules)."""
    amounts = [quantize(line.unit_price * line.quantity) for line in lines]
    discounts = [min(quantize(line.discount), amount) for line, amount in zip(lines, amounts, strict=True)]
    inclusive = [line.kind in tax.inclusive_kinds for line in lines]
    ship_cost = quantize(shipping) if shipping is not None else None
    ship_discount = ship_cost if ship_cost is not None and free_shipping else ZERO
    # Every charge: (amount, discount, inclusive, rate); shipping last, at the standard rate when
    # taxed (rate 0: untaxed).
    charges = [(amount, discount, incl, tax.rate_of(line.tax_class))
               for line, amount, discount, incl in zip(lines, amounts, discounts, inclusive, strict=True)]
    if ship_cost is not None:
        charges.append((ship_cost, ship_discount, tax.shipping_inclusive, tax.rate if tax.shipping_taxed else ZERO))
    taxes = _taxes(charges)
    priced = [Charge(amount=amount, discount=discount, tax_rate=rate, tax=charge_tax, tax_inclusive=incl)
              for (amount, discount, incl, rate), charge_tax in zip(charges, taxes, strict=True)]
    if ship_cost is None:
        return Priced(lines=tuple(priced), shipping=None)
    return Priced(lines=tuple(priced[:-1]), shipping=priced[-1])


def _taxes(charges: Sequence[tuple[Decimal, Decimal, bool, Decimal]]) -> list[Decimal]:
    """Each (amount, discount, inclusive, rate) charge's tax: per group of one rate and one side
    (added, included), the group's tax on its summed bases rounded once, shared in proportion to
    the bases."""
    taxes = [ZERO] * len(charges)
    groups: dict[tuple[Decimal, bool], list[int]] = {}
    for i, (_, _, inclusive, rate) in enumerate(charges):
        groups.setdefault((rate, inclusive), []).append(i)
    for (rate, inclusive), members in groups.items():
        bases = [charges[i][0] - charges[i][1] for i in members]
        total = group_tax(bases, rate, inclusive=inclusive)
        for i, share in zip(members, allocate(total, bases), strict=True):
            taxes[i] = share
    return taxes


def group_tax(bases: Iterable[Decimal], rate: Decimal, *, inclusive: bool) -> Decimal:
    """The tax of one group of one rate: added (base × rate) or included (base × rate / (1 + rate)),
    on the summed bases, half-up to the cent."""
    base = sum(bases, ZERO)
    if base <= 0 or rate <= 0:
        return ZERO
    return quantize(base * rate / (1 + rate) if inclusive else base * rate)
