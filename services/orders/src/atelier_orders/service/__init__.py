"""The order's own use cases (placing, reading, status, ownership), one module each; every method
may flush but never commits. The commerce wing's are in its feature folders (pricing, promotions,
returns, invoices)."""
