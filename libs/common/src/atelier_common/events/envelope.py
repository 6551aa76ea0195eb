"""The envelope every event travels in, and the base of every event contract."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

_REGISTRY: dict[tuple[str, int], type[IntegrationEvent]] = {}


class ContractModel(BaseModel):
    """Any part of an event contract. Unknown fields are ignored so that a producer may add
    fields before its consumers know them."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class IntegrationEvent(ContractModel):
    """A past-tense fact. Subclasses set `type` (`<aggregate>.<past tense>`) and `version`."""

    type: ClassVar[str]
    version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type" in cls.__dict__:
            _REGISTRY[(cls.type, cls.version)] = cls


def event_class(type_: str, version: int) -> type[IntegrationEvent] | None:
    return _REGISTRY.get((type_, version))


def _now() -> datetime:
    return datetime.now(UTC)


E = TypeVar("E", bound=IntegrationEvent)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int = 1
    occurred_at: datetime = Field(default_factory=_now)
    producer: str
    correlation_id: str | None = None
    traceparent: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(cls, event: IntegrationEvent, *, producer: str, **extra: Any) -> Envelope:
        return cls(type=event.type, version=event.version, producer=producer,
                   data=event.model_dump(mode="json"), **extra)

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate(orjson.loads(raw))

    def parse(self, cls_: builtins.type[E]) -> E:
        return cls_.model_validate(self.data)
