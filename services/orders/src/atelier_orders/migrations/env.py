import atelier_orders.models  # noqa: F401 - registers this service's tables
from atelier_common.migrations import run_env
from atelier_orders.settings import OrdersSettings

run_env("atelier_orders", default_url=OrdersSettings().resolved_database_url)
