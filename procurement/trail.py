"""A trail's *effective* steps: the recorded steps with their corrections applied.

Steps are never changed; a mistake is fixed by a ``correction`` step that names the step
it corrects (``corrects_seq``), why (``reason``) and the corrected members of its data
(``corrected``, a partial object whose members replace the step's members). This module is
the one definition of what that means, read by the timeline, findings, red flags, OCDS and
``GET /steps/{seq}``:

* the effective data of a step is its recorded data with the ``corrected`` members of
  each correction of it applied in seq order;
* a correction may itself be corrected: its effective data (``reason``, ``corrected``) is
  then that of the later correction, so the step it corrects takes the corrected
  correction's values — the later correction restates what the earlier one should have
  said (its ``corrected`` replaces the earlier ``corrected`` as a whole). What a correction
  corrects (``corrects_seq``) cannot be changed;
* the effective trail at any earlier point is the same function over the entries up to
  that point (OCDS builds a correction's release from the trail before and after it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EffectiveStep:
    """One recorded step (its entry document as stored) and its effective data."""

    entry: Mapping[str, Any]
    data: dict[str, Any]
    corrected_by: tuple[int, ...]
    seq: int = field(init=False)
    type: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "seq", int(self.entry["seq"]))
        object.__setattr__(self, "type", str(self.entry["type"]))

    @property
    def occurred_at(self) -> Any:
        return self.entry["occurred_at"]

    @property
    def recorded_data(self) -> Mapping[str, Any]:
        return self.entry.get("data") or {}

    def as_entry(self) -> dict[str, Any]:
        """The entry document with the effective data in place of the recorded data."""
        return {**self.entry, "data": self.data}


def corrected_seq(entry: Mapping[str, Any]) -> int | None:
    """The seq a correction entry corrects (None for other steps)."""
    if entry.get("type") != "correction":
        return None
    value = (entry.get("data") or {}).get("corrects_seq")
    return int(value) if value is not None else None


def effective_steps(entries: Iterable[Mapping[str, Any]]) -> list[EffectiveStep]:
    """Every step of a trail (corrections included), in seq order, with effective data.

    ``entries`` are entry documents (``seq``, ``type``, ``data``, ...) in any order; a
    correction whose step is not among them is kept but corrects nothing.
    """
    ordered = sorted(entries, key=lambda e: int(e["seq"]))
    seqs = {int(e["seq"]) for e in ordered}
    corrections_of: dict[int, list[int]] = {}
    for entry in ordered:
        target = corrected_seq(entry)
        if target is not None and target in seqs and target < int(entry["seq"]):
            corrections_of.setdefault(target, []).append(int(entry["seq"]))
    # A step's corrections come after it, so walking backwards has each correction's own
    # effective data ready before the step it corrects needs it.
    effective: dict[int, dict[str, Any]] = {}
    for entry in reversed(ordered):
        seq = int(entry["seq"])
        data = dict(entry.get("data") or {})
        for correction in corrections_of.get(seq, ()):
            data.update(effective[correction].get("corrected") or {})
        if entry.get("type") == "correction":
            data["corrects_seq"] = (entry.get("data") or {}).get("corrects_seq")
        effective[seq] = data
    return [
        EffectiveStep(
            entry=entry,
            data=effective[int(entry["seq"])],
            corrected_by=tuple(corrections_of.get(int(entry["seq"]), ())),
        )
        for entry in ordered
    ]


def without_corrections(steps: Sequence[EffectiveStep]) -> list[EffectiveStep]:
    """The steps that say what happened (the corrections are already applied to them)."""
    return [s for s in steps if s.type != "correction"]


def correction_root(entries_by_seq: Mapping[int, Mapping[str, Any]], seq: int) -> int | None:
    """The step a chain of corrections ends at (the correction of a correction of step 3
    corrects step 3); None when the chain leads outside ``entries_by_seq``."""
    seen: set[int] = set()
    current: int | None = seq
    while current is not None and current not in seen:
        seen.add(current)
        entry = entries_by_seq.get(current)
        if entry is None:
            return None
        target = corrected_seq(entry)
        if target is None:
            return current
        current = target
    return None
