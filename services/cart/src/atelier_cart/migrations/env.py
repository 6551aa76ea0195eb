import atelier_cart.models  # noqa: F401 - registers this service's tables
from atelier_cart.settings import CartSettings
from atelier_common.migrations import run_env

run_env("atelier_cart", default_url=CartSettings().resolved_database_url)
