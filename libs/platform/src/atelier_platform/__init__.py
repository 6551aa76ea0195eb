"""The platform assembly: the `atelier` command, the embedded mode and the distributed topology."""
