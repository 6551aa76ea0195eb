"""The settings base every service and the gateway build on.

Each service reads `ATELIER_<SERVICE>_<FIELD>` first and falls back to the shared
`ATELIER_<FIELD>`; nothing else in the code base reads `os.environ` but `ATELIER_FAST_PATHS`
(`atelier_common.fast`, read before any settings exist).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from atelier_common.contracts.catalog import TAX_INCLUSIVE_KINDS, ProductKind
from atelier_common.keys import install_secret

# A well-known value, refused in production: it was once the default of every secret. No secret
# defaults to it any more (see `generated_secrets`); the test kit configures it explicitly.
DEV_SECRET = "changethis"


# Short statements run many at once over cached data: no JIT compiling, no parallel workers to
# start, random reads priced as what they cost when the data is in memory or on SSD (which lets
# the catalog walk an ordering index instead of sorting a small table). Which statements are
# planned for their own values at every run and which may keep a plan is the client's choice per
# statement, not a setting: see `fast.statements.planned_per_run`.
DEFAULT_POSTGRES_OPTIONS = "-c jit=off -c max_parallel_workers_per_gather=0 -c random_page_cost=1.1"
DEFAULT_POSTGRES_CONNECT_TIMEOUT_SECONDS = 5

class AtelierSettings(BaseSettings):
    """Fields shared by every process. Subclasses set `service_name` and their env prefix."""

    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")
    service_name: ClassVar[str] = "atelier"
    # Secrets that production requires and that elsewhere, when the operator left them unset, are
    # generated once per install beside the dev keys: field names, or `field.key` for a dict entry.
    generated_secrets: ClassVar[tuple[str, ...]] = ("service_token",)

    # `production` refuses to start without every secret set (`atelier secrets`) and never serves /api/dev.
    environment: Literal["dev", "test", "production"] = "dev"
    # SQLite files (embedded mode), development keys and this install's generated secrets (`keys/`).
    data_dir: Path = Path(".atelier")
    # A server URL without a database name; each service then uses `atelier_<service>` on it. A
    # primary with standbys: every host, and only the writable one is used, so a promoted standby is
    # found without a restart (`postgresql://user:pw@db1:5432,db2:5432/?target_session_attrs=read-write`,
    # or SQLAlchemy's `postgresql://user:pw@/?host=db1:5432&host=db2:5432&target_session_attrs=read-write`);
    # docs/operations.md, Failover.
    postgres_server_url: str | None = None
    # Database names on that server are `<prefix><service>` (tests use a unique prefix).
    database_name_prefix: str = "atelier_"
    # One service's database (ATELIER_<SERVICE>_DATABASE_URL), instead of the server's above.
    database_url: str | None = None
    # Connections this process keeps once opened (`db_pool_size`) and may open beyond them under
    # load, closing them again (`db_max_overflow`); unset, they follow the process's roles
    # (`db.pool_for_roles`: every connection kept, none overflow), so the
    # default `atelier up` topology fits a PostgreSQL with max_connections=100.
    db_pool_size: int | None = None
    db_max_overflow: int | None = None
    # Session settings for every PostgreSQL connection (libpq `options`); see DEFAULT_POSTGRES_OPTIONS.
    postgres_options: str = DEFAULT_POSTGRES_OPTIONS
    # How long opening a PostgreSQL connection may take, per host of the URL (libpq `connect_timeout`,
    # unless the URL sets it): a host that is gone (no answer at all) costs this, not the system's
    # TCP timeout of minutes, before the next host of the URL is tried. 0: no limit.
    postgres_connect_timeout_seconds: int = Field(default=DEFAULT_POSTGRES_CONNECT_TIMEOUT_SECONDS, ge=0)
    # Which parts of a service this process runs: the HTTP API, the outbox relay, the consumers.
    roles: set[Literal["api", "relay", "consumer", "worker", "housekeeping"]] = {
        "api", "relay", "consumer", "worker", "housekeeping"}
    # Apply this service's migrations at start (embedded mode, tests); `atelier migrate` otherwise.
    auto_migrate: bool = True
    # `memory`: the in-process bus of the embedded mode (one process); `rabbitmq`: the broker below.
    bus: Literal["memory", "rabbitmq"] = "memory"
    # The broker; a cluster: every node's URL, comma-separated, and each process connects to the first
    # that answers and, when that connection is lost, to the next one (docs/operations.md, Failover).
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    # The durable topic exchange every event is published to, routed by its type.
    amqp_exchange: str = "atelier.events"
    # Prepended to every queue name, so that separate platforms can share one broker (tests).
    amqp_queue_prefix: str = ""
    # `quorum` on a clustered broker: replicated queues that survive a node's loss (RabbitMQ ≥ 3.8).
    # Chosen when the queues are first declared; an existing queue keeps its type.
    amqp_queue_type: Literal["classic", "quorum"] = "classic"
    # Rate limits and the response cache shared by every process (docs/redis.md). Unset: each
    # process counts its limits alone, and the distributed mode runs uncached.
    redis_url: str | None = None
    # Every key this install writes in Redis starts with this (rate limits, and the cache unless
    # `cache_prefix` says otherwise): installs sharing one Redis need different ones.
    redis_key_prefix: str = "atelier:"
    # Redis is a cache, never a single point of failure (`redisguard.py`, docs/redis.md): each call
    # (connect, command) gives up after this long, and after `redis_breaker_failures` failures in a
    # row calls skip Redis at once, trying it again every `redis_breaker_reset_seconds`.
    redis_timeout_seconds: float = Field(default=0.1, gt=0)
    redis_breaker_failures: int = Field(default=3, ge=1)
    redis_breaker_reset_seconds: float = Field(default=2.0, gt=0)
    # Public GET answers kept in a shared store and invalidated after each commit (`cache/`):
    # Redis at `cache_url` (else `redis_url`); without one, in-process (embedded mode only).
    cache_enabled: bool = True
    cache_url: str | None = None
    # The safety net: an entry lives at most this long even if no invalidation reached it.
    cache_ttl_seconds: float = Field(default=30.0, gt=0)
    # What clients and CDNs may do with a public answer (`Cache-Control: public, max-age=…,
    # s-maxage=…, stale-while-revalidate=…`): browsers revalidate at once by default (a 304 when
    # unchanged), shared caches (a CDN) keep an answer for `s_maxage` and may serve it
    # `stale_while_revalidate` longer while they fetch a fresh one — bounded staleness unless the
    # CDN is purged (`cdn_purge_url`). All three 0: `public, no-cache` (everybody revalidates).
    cache_max_age_seconds: int = Field(default=0, ge=0)
    cache_s_maxage_seconds: int = Field(default=60, ge=0)
    cache_stale_while_revalidate_seconds: int = Field(default=30, ge=0)
    # A CDN's purge-by-tag endpoint (`cdn.py`): after each commit that changed public answers,
    # their surrogate keys are POSTed there in the background with this bearer token, retried
    # `cdn_purge_attempts` times. Unset: no purge (the CDN keeps answers for their s-maxage).
    cdn_purge_url: str | None = None
    cdn_purge_token: str = ""
    cdn_purge_attempts: int = Field(default=3, ge=1)
    # The cache's keys in Redis start with this; unset: `redis_key_prefix`.
    cache_prefix: str | None = None
    # The gateway trusts the counters it read less than this long ago (0: asks the store on every
    # hit, so nothing older than the last commit is ever served): fewer round trips under load.
    cache_staleness_seconds: float = Field(default=0.0, ge=0)
    # With Redis, each bump is also published (`<prefix>bumps`) and the gateway listens: while it
    # is subscribed, counters it read are trusted this long without asking Redis again (a bump
    # drops them at once); the bound only matters if the subscription dies silently. 0: off.
    cache_local_trust_seconds: float = Field(default=2.0, ge=0)
    # The bound of an in-process store (the embedded mode's), oldest entries dropped first.
    cache_max_entries: int = Field(default=10_000, ge=1)
    # Where services find the public keys that sign access and anonymous tokens.
    jwks_url: str = "http://127.0.0.1:8000/.well-known/jwks.json"
    # A JWKS document given inline (tests, or deployments that pin keys); wins over jwks_url.
    jwks_json: str | None = None
    # How long a process goes by the JWKS it fetched before fetching it again. A key retired early
    # (`atelier keys retire KID --force`) is refused at once on `identity.key_retired`; with the
    # broker down, at most this long after (docs/security.md).
    jwks_cache_seconds: float = Field(default=60.0, gt=0)
    # `iss` and `aud` of every token identity and the gateway sign, checked by every service.
    jwt_issuer: str = "atelier"
    jwt_audience: str = "atelier"
    # Unset (""): outside production, this install's own random value (`with_install_secrets`).
    service_token: str = ""
    # Base URLs of the services, for /internal calls and the gateway's forwards, e.g.
    # {"catalog": "http://catalog:8000"}; a list for a service run as several processes
    # ({"orders": ["http://127.0.0.1:8104", "http://127.0.0.1:8110"]}): calls are spread over them
    # and one refused is tried on a sibling (docs/operations.md, Several API processes).
    service_urls: dict[str, list[str]] = {}
    # /api/dev/… (mailbox, local checkout pages, subscription advance); refused in production.
    dev_endpoints: bool = False
    # Where clients reach the platform (the gateway): links in mail, checkout pages, signed URLs.
    public_base_url: str = "http://localhost:8000"
    # The least level logged (`DEBUG`, `INFO`, `WARNING`, …).
    log_level: str = "INFO"
    # One JSON object per log line (`ts` in UTC with milliseconds, `level`, `service`, `logger`,
    # `message`, `trace_id`, `request_id`); false: plain text with the same timestamps.
    log_json: bool = True
    # "file": spans as JSON lines, one file per process, under otel_file_dir (default <data_dir>/traces).
    # "otlp": traces and metrics to an OTLP/HTTP collector at otel_endpoint (its base URL, e.g.
    # http://collector:4318, or its /v1/traces URL), metrics every otel_metrics_interval_seconds.
    otel_exporter: Literal["none", "console", "otlp", "file"] = "none"
    otel_endpoint: str | None = None
    otel_metrics_interval_seconds: float = Field(default=30.0, gt=0)
    # false: traces only over OTLP (a Jaeger takes no metrics; Prometheus scrapes /metrics anyway).
    otel_metrics: bool = True
    otel_file_dir: Path | None = None
    # One JSON line per request on the `atelier.access` logger.
    access_log: bool = True
    # Relay, consumer and worker processes (no API) serve /health, /ready and /metrics on this
    # port (0: no listener; API processes serve them on their own port).
    probe_port: int = 0
    probe_host: str = "0.0.0.0"
    # How often the relay sweeps what commits did not publish themselves (their broker was down):
    # bounded so that a revocation owed goes out within seconds once the broker is back (docs/security.md).
    relay_poll_seconds: float = Field(default=2.0, gt=0, le=30)
    # Events a consumer takes at once; its handlers commute, so never lower it to order them.
    consumer_prefetch: int = 32
    # A failing event is retried this many times, after 500 ms, 1 s, 2 s, … (one retry queue per
    # delay), then moved to the consumer's dead-letter queue (`atelier events dlq`).
    consumer_max_retries: int = 5
    consumer_retry_delay_ms: int = 500
    # Calls between services (`/internal/...`).
    http_timeout_seconds: float = 10.0
    # How often each process reloads the storefronts from identity, besides the change events it hears.
    storefront_refresh_seconds: float = Field(default=60.0, gt=0)
    # Housekeeping (the `housekeeping` role, `atelier_common.housekeeping`): a pass over the
    # service's sweeps every interval, the first one this long after start; batches of this many rows.
    housekeeping_interval_seconds: float = Field(default=3600.0, gt=0)
    housekeeping_start_delay_seconds: float = Field(default=60.0, ge=0)
    housekeeping_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Published outbox rows are deleted this long after they were published (unpublished rows never).
    outbox_retention_days: float = Field(default=7.0, gt=0)
    # Inbox rows (the event ids a consumer applied) are deleted this long after they were applied;
    # see `inbox_floor` for why it has a floor.
    inbox_retention_days: float = Field(default=7.0, gt=0)
    # What anonymous visitors left (carts, addresses, books) is deleted once untouched this long:
    # longer than the anonymous token's 4 weeks, so a visitor who can still come back finds it.
    anonymous_retention_days: float = Field(default=30.0, ge=28)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        shared = EnvSettingsSource(settings_cls, env_prefix="ATELIER_", env_nested_delimiter="__")
        return init_settings, env_settings, shared, dotenv_settings, file_secret_settings

    @field_validator("database_url", "postgres_server_url")
    @classmethod
    def _a_database_url(cls, url: str | None) -> str | None:
        # Said at start, in the setting's own words, rather than by the driver deep in a migration.
        if url and not normalise_database_url(url).startswith(("postgresql+psycopg://", "sqlite+aiosqlite://")):
            raise ValueError("not a PostgreSQL or SQLite URL (postgresql://user:password@host:5432/name, sqlite:///path)")
        return url

    @field_validator("amqp_url")
    @classmethod
    def _an_amqp_url(cls, url: str) -> str:
        urls = amqp_urls(url)
        if not urls or not all(one.startswith(("amqp://", "amqps://")) for one in urls):
            raise ValueError("not an AMQP URL (amqp://user:password@host:5672/), or a comma-separated list of them")
        return url

    @field_validator("service_urls", mode="before")
    @classmethod
    def _one_url_is_a_list_of_one(cls, urls: Any) -> Any:
        if isinstance(urls, dict):
            return {service: [value] if isinstance(value, str) else value for service, value in urls.items()}
        return urls

    @field_validator("service_urls")
    @classmethod
    def _some_url_each(cls, urls: dict[str, list[str]]) -> dict[str, list[str]]:
        for service, value in urls.items():
            if not value or not all(value):
                raise ValueError(f"{service}: a base URL or a non-empty list of them")
        return urls

    def service_base_urls(self, service: str) -> list[str]:
        """`service`'s base URLs (one per process serving its API), `http://<service>.internal`
        when none is configured."""
        # A string too: `model_copy(update=...)` (the embedded mode's settings) skips the validator.
        value: Any = self.service_urls.get(service) or f"http://{service}.internal"
        return [value] if isinstance(value, str) else list(value)

    @model_validator(mode="after")
    def _inbox_outlasts_redelivery(self) -> AtelierSettings:
        floor = inbox_floor(self.consumer_max_retries, self.consumer_retry_delay_ms)
        if timedelta(days=self.inbox_retention_days) < floor:
            raise ValueError(f"inbox_retention_days={self.inbox_retention_days} is shorter than the broker's "
                             f"redelivery horizon ({floor}): a late copy of an applied event would apply twice")
        return self

    @model_validator(mode="after")
    def _enforce_non_default_secrets(self) -> AtelierSettings:
        if self.environment == "production":
            for name in self.secret_fields():
                if getattr(self, name) == DEV_SECRET:
                    raise ValueError(f"{name} must be set to a real secret in production")
            for spec in self.generated_secrets:
                if not self._secret(spec):
                    raise ValueError(f"{spec} must be set in production")
        return self

    def _secret(self, spec: str) -> str:
        field, _, key = spec.partition(".")
        value = getattr(self, field)
        if key:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, str) else ""

    def with_install_secrets(self) -> Self:
        """These settings with every unset `generated_secrets` entry filled from this install's store
        (`<data_dir>/keys/<name>.secret`, created on first use). Production requires them set."""
        if self.environment == "production":
            return self
        update: dict[str, Any] = {}
        for spec in self.generated_secrets:
            if self._secret(spec):
                continue
            field, _, key = spec.partition(".")
            value = install_secret(self.data_dir / "keys", spec)
            update[field] = {**update.get(field, getattr(self, field)), key: value} if key else value
        return self.model_copy(update=update) if update else self

    @property
    def inbox_window(self) -> timedelta:
        """How long a consumer remembers an applied event: no copy of it arrives later."""
        return timedelta(days=self.inbox_retention_days)

    def secret_fields(self) -> tuple[str, ...]:
        return ("service_token",)

    @property
    def cache_key_prefix(self) -> str:
        return self.redis_key_prefix if self.cache_prefix is None else self.cache_prefix

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        if self.postgres_server_url:
            return database_on_server(self.postgres_server_url, f"{self.database_name_prefix}{self.service_name}")
        return f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.db')}"


class ServiceSettings(AtelierSettings):
    """Base for the six services; subclasses set `env_prefix` to `ATELIER_<SERVICE>_`."""

    @classmethod
    def of(cls, runtime: Any) -> Self:
        """The running service's settings, typed as this service's class."""
        settings = runtime.settings
        if not isinstance(settings, cls):
            raise TypeError(f"{type(settings).__name__} is not {cls.__name__}")
        return settings



class PricingSettings(ServiceSettings):
    """What cart shows and orders charges must be computed alike (the price shown is the price
    charged): the tax rule is declared here once, for both. `ATELIER_TAX_RATE` sets it for both."""

    # Added on the lines of tax-exclusive kinds, rounded half-up to the cent (S1: 9%; S3 wrote 10%).
    tax_rate: Decimal = Field(default=Decimal("0.09"), ge=0, lt=1)
    # Kinds whose prices already include tax: by default the digital goods.
    tax_inclusive_kinds: frozenset[ProductKind] = frozenset(ProductKind(k) for k in TAX_INCLUSIVE_KINDS)
    # The default storefront's currency until identity's record of it is loaded
    # (`atelier_common.storefronts.fallback_storefront`); `ATELIER_DEFAULT_CURRENCY` sets it for all.
    default_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

# Why the inbox has a floor: an inbox row is what makes a second copy of an event harmless, so it
# must outlive every way a copy can still arrive after the first was applied — the relay
# republishing a row whose "sent" mark was lost (seconds), the broker redelivering what a dying
# consumer had not acknowledged, the retry queue's back-off (`consumer_retry_delay_ms` doubling
# for `consumer_max_retries` attempts), a queue that waits while its consumers are down, and an
# operator moving dead-lettered copies back. The last two last as long as an outage or a person
# takes; one day on top of the back-off is the least we accept, and docs/operations.md asks operators to
# replay a dead-letter queue within the inbox window (7 days by default).
INBOX_FLOOR_MARGIN = timedelta(days=1)


def inbox_floor(max_retries: int, retry_delay_ms: int) -> timedelta:
    """The shortest inbox retention accepted: the retry back-off horizon plus a day."""
    backoff_ms = sum(retry_delay_ms * 2**attempt for attempt in range(max(max_retries, 0)))
    return INBOX_FLOOR_MARGIN + timedelta(milliseconds=backoff_ms)


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL and aiosqlite for SQLite whatever scheme was written; libpq's
    list of hosts (`user@db1:5432,db2:5432/name`) as SQLAlchemy spells it (`user@/name?host=db1:5432&host=db2:5432`)."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://", "postgresql+asyncpg://"):
        if url.startswith(prefix):
            return _hosts_as_query("postgresql+psycopg://" + url[len(prefix):])
    if url.startswith("postgresql+psycopg://"):
        return _hosts_as_query(url)
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    return url


# scheme://[userinfo@]hosts[/path][?query]: the hosts end at the first "/" or "?".
_URL_PARTS = re.compile(r"^(?P<scheme>[^:/]+://)(?P<userinfo>[^@/?]*@)?(?P<hosts>[^/?]*)(?P<path>/[^?]*)?(?:\?(?P<query>.*))?$")


def _hosts_as_query(url: str) -> str:
    """SQLAlchemy parses one host in the authority; several go in the query, one `host=` each."""
    parts = _URL_PARTS.match(url)
    if parts is None or "," not in parts["hosts"]:
        return url
    hosts = "&".join(f"host={host}" for host in parts["hosts"].split(",") if host)
    query = f"{hosts}&{parts['query']}" if parts["query"] else hosts
    return f"{parts['scheme']}{parts['userinfo'] or ''}{parts['path'] or '/'}?{query}"


def database_on_server(server_url: str, name: str) -> str:
    """The URL of database `name` on the server (or servers) of `server_url`, its query kept."""
    url = normalise_database_url(server_url)
    base, mark, query = url.partition("?")
    return f"{base.rstrip('/')}/{name}{mark}{query}"


def libpq_conninfo(url: str, **overrides: str | None) -> str:
    """A database or server URL as libpq takes it (psycopg's `connect`, `pg_dump --dbname`), every
    host of a list kept: libpq reads one `host` of a URL's query, SQLAlchemy several. `overrides`
    replace keywords (`dbname="postgres"`); None removes one."""
    from psycopg.conninfo import make_conninfo
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
    from sqlalchemy.engine import make_url

    # SQLAlchemy's own reading of the URL (its hosts split as the services' engines split them).
    dialect = PGDialect_psycopg()  # type: ignore[no-untyped-call]  # SQLAlchemy's dialects are untyped
    _, params = dialect.create_connect_args(make_url(normalise_database_url(url)))  # type: ignore[no-untyped-call]  # as above
    params.update(overrides)
    return make_conninfo(**{key: str(value) for key, value in params.items() if value is not None})


def amqp_urls(value: str) -> list[str]:
    """The brokers of `amqp_url`: one URL, or several separated by commas (the nodes of a cluster)."""
    return [url.strip() for url in value.split(",") if url.strip()]


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


# ---------------------------------------------------------------------------------------------- errors

# Values never echoed in an error line: they may be (or carry) a password or a key.
_HIDDEN_VALUE = re.compile(r"secret|password|token|_pem|key|url|dsn|providers", re.IGNORECASE)


def _settings_classes(base: type[BaseSettings] = AtelierSettings) -> Iterator[type[BaseSettings]]:
    yield base
    for sub in base.__subclasses__():
        yield from _settings_classes(sub)


def _env_var(cls: type[BaseSettings], field: str) -> str:
    """The variable that holds `field` of `cls`: the process's own (`ATELIER_<SERVICE>_<FIELD>`)
    when set, else the shared `ATELIER_<FIELD>` when that is set, else the process's own."""
    own = f"{cls.model_config.get('env_prefix', '')}{field}".upper()
    shared = f"ATELIER_{field}".upper()
    if own not in os.environ and shared in os.environ:
        return shared
    return own


def _explain_source_error(error: SettingsError) -> list[str] | None:
    """A complex setting (a dict or a list) whose variable is not JSON: pydantic-settings says which
    field, not which class, so the variable is the one set for a class that has that field."""
    found = re.search(r'field "(\w+)"', str(error))
    if found is None:
        return None
    field = found.group(1)
    names = [_env_var(c, field) for c in _settings_classes() if field in c.model_fields]
    variable = next((name for name in names if name in os.environ), names[0] if names else field.upper())
    cause = f" ({error.__cause__})" if error.__cause__ else ""
    return [f"configuration error: {field} ({variable}): not valid JSON{cause}"]


def explain_settings_error(error: ValidationError | SettingsError) -> list[str] | None:
    """One line per invalid setting of a settings class: the setting, its environment variable and
    what is wrong (`atelier` prints these instead of a traceback). None when `error` is not about
    the settings of an Atelier process."""
    if isinstance(error, SettingsError):
        return _explain_source_error(error)
    cls = next((c for c in _settings_classes() if c.__name__ == error.title), None)
    if cls is None:
        return None
    lines = []
    for item in error.errors(include_url=False):
        message = re.sub(r"^(Value|Assertion) error, ", "", item["msg"])
        loc = [str(part) for part in item["loc"]]
        # A model validator's error has no location: the message names the field it is about.
        field = loc[0] if loc else next((f for f in cls.model_fields if re.search(rf"\b{f}\b", message)), None)
        if field is None or field not in cls.model_fields:
            lines.append(f"configuration error ({cls.__name__}): {message}")
            continue
        where = ".".join([field, *loc[1:]])
        shown = ""
        if loc and "input" in item and not _HIDDEN_VALUE.search(field) and not isinstance(item["input"], dict):
            shown = f" (got {item['input']!r})"
        lines.append(f"configuration error: {where} ({_env_var(cls, field)}): {message}{shown}")
    return lines
