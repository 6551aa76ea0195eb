"""The report of a product import."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ImportRowRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"line": 3, "sku": "PRINT-FOX-A3", "status": "error", "message": "price: Input should be a valid decimal"}]})

    line: int = Field(description="The row's line in the file (the header is line 1)")
    sku: str
    status: Literal["created", "updated", "unchanged", "error"]
    message: str = Field(description="Why the row is refused (empty unless `status` is error)")


class ImportReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [
        {"dry_run": True, "counts": {"created": 1, "updated": 2, "unchanged": 11, "error": 1},
         "rows": [{"line": 2, "sku": "PRINT-FOX-A2", "status": "updated", "message": ""},
                  {"line": 3, "sku": "PRINT-FOX-A3", "status": "error",
                   "message": "price: Input should be a valid decimal"}]}]})

    dry_run: bool = Field(description="True: nothing was written; the report says what applying would do")
    counts: dict[str, int] = Field(description="How many rows are created, updated, unchanged and in error")
    rows: list[ImportRowRead]
