"""Financial limits (finanční limity) that decide a procurement's regime, as dated data.

Each limit carries its legal reference and the date from which it applies, so a change in
the law is a new row, not a code change. ``confidence`` says whether the value was checked
against a source ("confirmed") or is carried over from the design notes ("unconfirmed").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

Subject = Literal["supplies", "services", "works"]
Regime = Literal["small_scale", "below_threshold", "above_threshold"]
Confidence = Literal["confirmed", "unconfirmed"]

ZZVZ = "zákon č. 134/2016 Sb."
NV_LIMITS = "nařízení vlády č. 172/2016 Sb."


@dataclass(frozen=True)
class Threshold:
    """One limit: ``kind`` small_scale is the upper bound (inclusive) of a small-scale
    contract; ``kind`` eu is the lower bound (inclusive) of an above-threshold contract."""

    id: str
    kind: Literal["small_scale", "eu"]
    subject: Subject
    amount_czk: Decimal
    legal_reference: str
    effective_from: date
    confidence: Confidence
    note: str = ""
    amount_eur: Decimal | None = None


THRESHOLDS: tuple[Threshold, ...] = (
    # Veřejná zakázka malého rozsahu (VZMR): "rovna nebo nižší než" the limit.
    Threshold(
        id="small_scale_supplies_2016",
        kind="small_scale",
        subject="supplies",
        amount_czk=Decimal("2000000.00"),
        legal_reference=f"§ 27 písm. a) {ZZVZ}",
        effective_from=date(2016, 10, 1),
        confidence="unconfirmed",
        note="Confirmed in force at 1 January 2024 (unchanged since 2016). Whether the "
        "2025 amendment of the act raised it for 2026 could not be confirmed or ruled out "
        "from the sources at hand; add a dated row when it is.",
    ),
    Threshold(
        id="small_scale_services_2016",
        kind="small_scale",
        subject="services",
        amount_czk=Decimal("2000000.00"),
        legal_reference=f"§ 27 písm. a) {ZZVZ}",
        effective_from=date(2016, 10, 1),
        confidence="unconfirmed",
        note="As for supplies: confirmed at 1 January 2024, a 2025 change not confirmed.",
    ),
    Threshold(
        id="small_scale_works_2016",
        kind="small_scale",
        subject="works",
        amount_czk=Decimal("6000000.00"),
        legal_reference=f"§ 27 písm. b) {ZZVZ}",
        effective_from=date(2016, 10, 1),
        confidence="unconfirmed",
        note="Confirmed at 1 January 2024; a 2025 change not confirmed.",
    ),
    # EU thresholds for sub-central contracting authorities (municipalities, § 4(1)(d)).
    Threshold(
        id="eu_supplies_2024",
        kind="eu",
        subject="supplies",
        amount_czk=Decimal("5401000.00"),
        amount_eur=Decimal("221000"),
        legal_reference=f"§ 25 {ZZVZ}; § 2 odst. 1 písm. b) {NV_LIMITS}",
        effective_from=date(2024, 1, 1),
        confidence="confirmed",
        note="CZK value of § 2 odst. 1 písm. b) bod 2 (buyers of § 4 odst. 1 písm. d), "
        "územní samosprávné celky) of the regulation in force from 1 January 2024.",
    ),
    Threshold(
        id="eu_services_2024",
        kind="eu",
        subject="services",
        amount_czk=Decimal("5401000.00"),
        amount_eur=Decimal("221000"),
        legal_reference=f"§ 25 {ZZVZ}; § 3 {NV_LIMITS}",
        effective_from=date(2024, 1, 1),
        confidence="unconfirmed",
        note="Assumed equal to the supplies limit for sub-central authorities, as in the "
        "EU directive; the CZK figure of § 3 was not read.",
    ),
    Threshold(
        id="eu_works_2024",
        kind="eu",
        subject="works",
        amount_czk=Decimal("135348000.00"),
        amount_eur=Decimal("5538000"),
        legal_reference=f"§ 25 {ZZVZ}; § 4 {NV_LIMITS}",
        effective_from=date(2024, 1, 1),
        confidence="unconfirmed",
        note="From memory of the regulation in force from 1 January 2024; not read.",
    ),
    Threshold(
        id="eu_supplies_2026",
        kind="eu",
        subject="supplies",
        amount_czk=Decimal("5401000.00"),
        amount_eur=Decimal("216000"),
        legal_reference=f"§ 25 {ZZVZ}; {NV_LIMITS} (amendment for 2026-2027)",
        effective_from=date(2026, 1, 1),
        confidence="unconfirmed",
        note="EUR 216,000 per the design notes (Commission figures for 2026-2027); the CZK "
        "value of the amending government regulation was not found, so the 2024 CZK value "
        "is carried over. Replace it with the published figure.",
    ),
    Threshold(
        id="eu_services_2026",
        kind="eu",
        subject="services",
        amount_czk=Decimal("5401000.00"),
        amount_eur=Decimal("216000"),
        legal_reference=f"§ 25 {ZZVZ}; {NV_LIMITS} (amendment for 2026-2027)",
        effective_from=date(2026, 1, 1),
        confidence="unconfirmed",
        note="As for supplies 2026.",
    ),
    Threshold(
        id="eu_works_2026",
        kind="eu",
        subject="works",
        amount_czk=Decimal("135348000.00"),
        amount_eur=Decimal("5404000"),
        legal_reference=f"§ 25 {ZZVZ}; {NV_LIMITS} (amendment for 2026-2027)",
        effective_from=date(2026, 1, 1),
        confidence="unconfirmed",
        note="EUR 5,404,000 per the design notes; CZK value not found, 2024 value carried over.",
    ),
)


def threshold_in_force(kind: str, subject: str, on: date) -> Threshold:
    """The limit of ``kind`` for ``subject`` that applies on ``on`` (latest effective_from)."""
    candidates = [
        t for t in THRESHOLDS if t.kind == kind and t.subject == subject and t.effective_from <= on
    ]
    if not candidates:
        raise LookupError(f"no {kind} threshold for {subject} on {on}")
    return max(candidates, key=lambda t: t.effective_from)


def regime_for(subject: str, value: Decimal, on: date) -> Regime:
    """small_scale (≤ the § 27 limit), above_threshold (≥ the EU limit), else below."""
    if value <= threshold_in_force("small_scale", subject, on).amount_czk:
        return "small_scale"
    if value >= threshold_in_force("eu", subject, on).amount_czk:
        return "above_threshold"
    return "below_threshold"
