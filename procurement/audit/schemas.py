"""API models of the auditor exports: filters, feed pages and red flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

ExportFormat = Literal["jsonl", "csv", "ocds"]
Delimiter = Literal["comma", "semicolon"]
RuleId = Literal[
    "single_bid",
    "short_bid_period",
    "contract_before_objection_period",
    "contract_not_published",
    "price_paid_not_published",
    "paid_above_contract_value",
    "amendments_above_share",
    "winner_not_among_bidders",
    "split_contracts",
    "contract_missing_from_register",
    "register_value_differs",
]


@dataclass(frozen=True)
class ExportFilters:
    """Which procurements (and their steps) an export holds; dates are inclusive."""

    buyer_code: str | None = None
    procedure: str | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None


class FeedEntry(BaseModel):
    """One step of the trail, as the ledger holds it (``entry`` is the entry document)."""

    leaf_index: int
    ocid: str
    seq: int
    type: str
    entry_hash: str = Field(description="SHA-256 (hex) of the canonical entry bytes")
    entry: dict[str, Any] = Field(description="The entry document (see the entry contract)")


class FeedPage(BaseModel):
    """Steps in leaf order; poll again with ``next_cursor`` (an empty page: caught up)."""

    items: list[FeedEntry]
    next_cursor: str = Field(description="Pass as since= for the following steps.")


class EvidencePublic(BaseModel):
    ocid: str
    seq: int
    leaf_index: int
    type: str


class RedFlagPublic(BaseModel):
    """One red flag: its rule, the law it refers to, and the steps that are its evidence."""

    rule: RuleId
    legal_reference: str | None
    ocid: str
    buyer_code: str
    evidence: list[EvidencePublic]
    explanation: str
    details: dict[str, Any]


class RedFlagPage(BaseModel):
    items: list[RedFlagPublic]
    next_cursor: str | None = Field(default=None, description="Null on the last page.")
