import atelier_payments.models  # noqa: F401 - registers this service's tables
from atelier_common.migrations import run_env
from atelier_payments.settings import PaymentsSettings

run_env("atelier_payments", default_url=PaymentsSettings().resolved_database_url)
