"""Pricing: the one function every total comes from (`charges.price`), the rules of a destination
(`destinations`: its tax, its shipping methods and their cost) and a cart priced by each method
(`options`). docs/api.md#money-and-tax."""
