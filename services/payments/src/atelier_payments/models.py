"""Tables of the payments service."""
