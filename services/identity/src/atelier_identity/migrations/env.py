import atelier_identity.models  # noqa: F401 - registers this service's tables
from atelier_common.migrations import run_env
from atelier_identity.settings import IdentitySettings

run_env("atelier_identity", default_url=IdentitySettings().resolved_database_url)
