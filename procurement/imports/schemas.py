"""API models of imports: the report of a buyer profile import."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ImportConflict(BaseModel):
    """A fact of the export that contradicts the trail: reported, never written."""

    path: str = Field(description="The element of the export (path in this file)")
    ocid: str
    seq: int | None = Field(description="The trail's step it contradicts; null: the procurement")
    step_type: str | None
    member: str = Field(description="What differs, e.g. data.value_excl_vat or occurred_at")
    trail: Any = Field(description="The value in the trail (its effective data)")
    export: Any = Field(description="The value the export states")


class UnknownValue(BaseModel):
    """A value no table of the import knows (or that does not read): never guessed."""

    path: str
    element: str
    value: str
    effect: str = Field(description="What the import did without it")


class NotRecorded(BaseModel):
    """A fact the export states that the trail cannot record as it stands, and why."""

    path: str
    fact: str
    reason: str


class ImportedItem(BaseModel):
    """One part of the export (one procurement of the trail) and what became of it."""

    path: str = Field(description="The part's element in the export")
    buyer_profile_procurement_id: str
    buyer_profile_part_id: str | None
    title: str
    outcome: Literal["created", "appended", "unchanged", "skipped"] = Field(
        description="created: a new procurement; appended: new steps for a procurement "
        "imported before; unchanged: nothing new; skipped: not imported (see reason)"
    )
    ocid: str | None = Field(description="null when skipped, and for new ones in a dry run")
    reason: str | None = Field(default=None, description="Why it was skipped")
    steps_recorded: int = 0
    steps_unchanged: int = 0
    conflicts: int = 0
    order_notes: list[str] = Field(
        default_factory=list,
        description="Order rules the recorded steps do not meet (the export proves no step "
        "before them); recorded with the step as imported_from.order_note",
    )


class BuyerProfileImportReport(BaseModel):
    """What an import of one buyer profile file did (or, in a dry run, would do)."""

    buyer_code: str
    file_sha256: str
    profile_code: str | None = Field(description="profil_kod of the export")
    structures: list[Literal["2016", "current"]] = Field(
        description="The structures its zakazka elements use (vyhláška č. 168/2016 Sb.; the "
        "current one of vyhláška č. 345/2023 Sb.)"
    )
    dry_run: bool
    parts: int = Field(description="Parts in the export (one procurement each)")
    created: int
    appended: int
    unchanged: int
    skipped: int
    steps_recorded: int
    steps_unchanged: int
    conflicts: list[ImportConflict]
    unknown_values: list[UnknownValue]
    not_recorded: list[NotRecorded]
    unreadable: list[NotRecorded] = Field(
        description="zakazka elements that are neither structure (not imported)"
    )
    items: list[ImportedItem]
    checkpoint_tree_size: int | None = Field(
        description="The signed checkpoint that covers the new entries (null: none written)"
    )
