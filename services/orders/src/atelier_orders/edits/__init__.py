"""Order edits: staff change an order that has not shipped (docs/back-office.md#order-edits)."""
