"""Tables of the generation service."""
