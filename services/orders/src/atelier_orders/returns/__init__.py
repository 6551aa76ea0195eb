"""Returns: the rules (`rules`: statuses, what may be returned, what a return refunds) and the
use cases (`service`)."""
