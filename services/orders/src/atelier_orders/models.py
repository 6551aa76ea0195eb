"""Tables of the orders service."""
