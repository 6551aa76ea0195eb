"""Promotions and discount codes: the rule (`rules`: what a basket saves, when a promotion runs,
the code normaliser, the per-customer limit), its SQL (`repository`), the use cases (`service`)
and the count of wrong codes (`code_guesses`)."""
