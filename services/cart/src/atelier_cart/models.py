"""Tables of the cart service."""
