"""Tables of the identity service."""
