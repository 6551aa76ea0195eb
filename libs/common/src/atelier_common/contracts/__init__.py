"""Event contracts, one module per producer; producers and consumers import the same class."""
