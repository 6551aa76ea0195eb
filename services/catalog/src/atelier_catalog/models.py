"""Tables of the catalog service."""
