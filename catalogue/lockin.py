"""The lock-in profile of a solution: 0 (easy to leave) to 100 (hard to leave), with reasons.

Each modularity fact that is missing adds its weight; the weights sum to 100. The weights
say what costs a small town most when it wants to change vendor: not owning its data and
not being able to take it out, then no documented API, then the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ModularityFacts(Protocol):
    open_api_documented: bool
    standard_data_model: bool
    bulk_export: bool
    data_owned_by_municipality: bool
    open_source: bool
    exit_clause: bool
    published_in_nkod: bool
    proprietary_hardware: bool
    standards: list[str]


@dataclass(frozen=True)
class Factor:
    id: str
    points: int
    missing: str  # the reason shown when the fact counts against the solution
    present: str  # shown when it counts in its favour


FACTORS: tuple[Factor, ...] = (
    Factor(
        "data_owned_by_municipality",
        20,
        "the municipality does not own the data",
        "the municipality owns the data",
    ),
    Factor("bulk_export", 15, "no bulk export of the data", "all data can be exported in bulk"),
    Factor("open_api_documented", 15, "no documented open API", "documented open API"),
    Factor(
        "open_standards",
        15,
        "supports no open standard from the vocabulary",
        "supports open standards",
    ),
    Factor("standard_data_model", 10, "no standard data model", "uses a standard data model"),
    Factor(
        "exit_clause",
        10,
        "no exit clause (data and transition help at the end of the contract)",
        "exit clause in the contract",
    ),
    Factor("open_source", 10, "not open source", "open source"),
    Factor(
        "proprietary_hardware",
        5,
        "needs the vendor's proprietary hardware",
        "no proprietary hardware needed",
    ),
)
assert sum(f.points for f in FACTORS) == 100


def _holds(facts: ModularityFacts, factor: str) -> bool:
    if factor == "open_standards":
        return bool(facts.standards)
    if factor == "proprietary_hardware":
        return not facts.proprietary_hardware
    return bool(getattr(facts, factor))


def lockin_score(facts: ModularityFacts) -> int:
    return sum(f.points for f in FACTORS if not _holds(facts, f.id))


def lockin_level(score: int) -> str:
    return "low" if score < 30 else "medium" if score < 60 else "high"


def lockin_reasons(facts: ModularityFacts) -> list[dict[str, object]]:
    """Every factor, worst first: what it adds to the score and why."""
    reasons: list[dict[str, object]] = []
    for factor in FACTORS:
        holds = _holds(facts, factor.id)
        reasons.append(
            {
                "factor": factor.id,
                "points": 0 if holds else factor.points,
                "detail": factor.present if holds else factor.missing,
            }
        )
    reasons.sort(key=lambda r: -int(r["points"]))  # type: ignore[call-overload]
    return reasons
