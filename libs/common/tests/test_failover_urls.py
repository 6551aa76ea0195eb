"""The URLs of a PostgreSQL primary with standbys and of a RabbitMQ cluster (docs/operations.md,
Failover): every host survives from the setting to the engine, libpq and the bus."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from atelier_common.events.rabbitmq import RabbitMQBus, shown
from atelier_common.settings import (
    AtelierSettings,
    database_on_server,
    libpq_conninfo,
    normalise_database_url,
)

# The same two-host server, as libpq writes it and as SQLAlchemy does.
LIBPQ = "postgresql://atelier:s3cret@db1:5432,db2:5433/?target_session_attrs=read-write"
SQLALCHEMY = "postgresql://atelier:s3cret@/?host=db1:5432&host=db2:5433&target_session_attrs=read-write"


class TestPostgresHosts:
    @pytest.mark.parametrize("server", [LIBPQ, SQLALCHEMY])
    def test_each_service_database_keeps_every_host(self, server: str) -> None:
        url = AtelierSettings(postgres_server_url=server, database_name_prefix="shop_").resolved_database_url
        assert url == ("postgresql+psycopg://atelier:s3cret@/shop_atelier"
                       "?host=db1:5432&host=db2:5433&target_session_attrs=read-write")
        parsed = make_url(url)
        assert parsed.database == "shop_atelier" and parsed.query["host"] == ("db1:5432", "db2:5433")

    def test_libpq_gets_every_host_and_port(self) -> None:
        conninfo = libpq_conninfo(database_on_server(LIBPQ, "atelier_orders"))
        words = dict(word.split("=", 1) for word in conninfo.split())
        assert words == {"host": "db1,db2", "port": "5432,5433", "dbname": "atelier_orders", "user": "atelier",
                         "password": "s3cret", "target_session_attrs": "read-write"}
        admin = dict(word.split("=", 1) for word in libpq_conninfo(LIBPQ, dbname="postgres", password=None).split())
        assert admin["dbname"] == "postgres" and "password" not in admin

    def test_a_host_without_its_port_takes_the_default(self) -> None:
        words = dict(word.split("=", 1) for word in libpq_conninfo("postgresql://u@db1,db2:6432/x").split())
        assert words["host"] == "db1,db2" and words["port"] == ",6432"  # libpq: empty is 5432

    @pytest.mark.parametrize("url", ["postgresql://u:p@db:5432/x", "postgresql://u@db/x?sslmode=require",
                                     "sqlite:///tmp/x.db"])
    def test_one_host_is_left_as_it_was(self, url: str) -> None:
        assert normalise_database_url(url).split("://", 1)[1] == url.split("://", 1)[1]

    def test_a_server_url_with_a_query_gets_the_database_before_it(self) -> None:
        assert database_on_server("postgresql://u@db:5432/?sslmode=require", "atelier_cart") == \
            "postgresql+psycopg://u@db:5432/atelier_cart?sslmode=require"


class TestBrokerList:
    def test_every_node_is_kept_in_order(self) -> None:
        urls = "amqp://u:p@rabbit1:5672/, amqp://u:p@rabbit2:5672/,amqp://u:p@rabbit3:5672/"
        assert AtelierSettings(amqp_url=urls).amqp_url == urls
        bus = RabbitMQBus(urls)
        assert bus.urls == ["amqp://u:p@rabbit1:5672/", "amqp://u:p@rabbit2:5672/", "amqp://u:p@rabbit3:5672/"]
        assert bus.url == bus.urls[0]
        assert shown(bus.url) == "rabbit1:5672"  # logs and metrics never show the credentials

    @pytest.mark.parametrize("urls", ["amqp://rabbit1/,http://rabbit2/", ",", "rabbit1:5672"])
    def test_a_list_with_a_bad_entry_is_refused(self, urls: str) -> None:
        with pytest.raises(ValidationError, match="AMQP URL"):
            AtelierSettings(amqp_url=urls)
