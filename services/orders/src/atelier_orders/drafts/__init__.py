"""Draft orders: staff take an order for a customer (docs/back-office.md#draft-orders)."""
