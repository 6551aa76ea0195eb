import atelier_generation.models  # noqa: F401 - registers this service's tables
from atelier_common.migrations import run_env
from atelier_generation.settings import GenerationSettings

run_env("atelier_generation", default_url=GenerationSettings().resolved_database_url)
