import atelier_catalog.models  # noqa: F401 - registers this service's tables
from atelier_catalog.settings import CatalogSettings
from atelier_common.migrations import run_env

run_env("atelier_catalog", default_url=CatalogSettings().resolved_database_url)
