"""The law as dated data: every statutory value the trail applies, in one table.

Each row is one *version* of a value: its legal reference (act, §, odst., písm.), the days
between which it applies (``effective_from``, ``effective_to`` inclusive, or open), a
``confidence`` ("confirmed" when a public source read for it states it, else
"unconfirmed") and a note naming that source or saying what is missing. A change of the law
is a new row that closes the previous one (``effective_to``), never an edited row.

Three kinds of rows:

* ``THRESHOLDS``: the financial limits that decide a procurement's regime (§ 25 and § 27
  ZZVZ, the EU thresholds of nařízení vlády č. 172/2016 Sb.);
* ``DEADLINES``: the days and value limits of the statutory periods, by ``rule_id`` (the
  rules that say *when* a period runs live in ``procurement.rules``);
* ``LIMITS``: other values (shares of a contract's value).

Which version applies: the one in force on the day the period starts (``applies_by =
"period_start"``), unless the amending act's transitional provision keeps procedures begun
before it under the old law (``applies_by = "procedure_start"``: the day the procurement
started, ``started_on``).

Abbreviations: ZZVZ = zákon č. 134/2016 Sb., o zadávání veřejných zakázek; RS = zákon
č. 340/2015 Sb., o registru smluv; NV = nařízení vlády č. 172/2016 Sb., o stanovení
finančních limitů a částek pro účely zákona o zadávání veřejných zakázek.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from procurement.calendar import DayKind

ZZVZ = "zákon č. 134/2016 Sb."
RS = "zákon č. 340/2015 Sb."
NV = "nařízení vlády č. 172/2016 Sb."
AMENDMENT_2023 = "zákon č. 166/2023 Sb."
AMENDMENT_2025 = "zákon č. 69/2025 Sb."

ZZVZ_FROM = date(2016, 10, 1)
AMENDMENT_2023_FROM = date(2023, 7, 16)
AMENDMENT_2025_FROM = date(2025, 4, 3)

Confidence = Literal["confirmed", "secondary", "unconfirmed"]
Subject = Literal["supplies", "services", "works"]
Regime = Literal["small_scale", "below_threshold", "above_threshold"]
BuyerKind = Literal["all", "sub_central", "central", "sectoral"]
AppliesBy = Literal["period_start", "procedure_start"]


class NotInForce(LookupError):
    """No version of a value applies on the day asked for (before the law existed)."""


@dataclass(frozen=True)
class Threshold:
    """A financial limit. ``kind`` small_scale: the upper bound (inclusive, "rovna nebo
    nižší") of a small-scale contract; ``kind`` eu: the lower bound (inclusive, "rovna nebo
    vyšší") of an above-threshold contract, for ``buyer_kind``."""

    id: str
    kind: Literal["small_scale", "eu"]
    subject: Subject
    buyer_kind: BuyerKind
    amount_czk: Decimal
    amount_eur: Decimal | None
    legal_reference: str
    effective_from: date
    effective_to: date | None
    confidence: Confidence
    note: str


@dataclass(frozen=True)
class DeadlineVersion:
    """The values of one statutory period (rule ``rule_id`` of ``procurement.rules``)."""

    rule_id: str
    days: int
    day_kind: DayKind
    value_above: Decimal | None
    legal_reference: str
    effective_from: date
    effective_to: date | None
    confidence: Confidence
    note: str
    applies_by: AppliesBy = "period_start"


@dataclass(frozen=True)
class LegalLimit:
    """Another statutory value: a share of a contract's value."""

    id: str
    value: Decimal
    unit: Literal["share"]
    legal_reference: str
    effective_from: date
    effective_to: date | None
    confidence: Confidence
    note: str


def in_force(row: Threshold | DeadlineVersion | LegalLimit, on: date) -> bool:
    return row.effective_from <= on and (row.effective_to is None or on <= row.effective_to)


# --- thresholds ---------------------------------------------------------------------------

_SMALL_SCALE_2016 = (
    "§ 27 as enacted: 'rovna nebo nižší … a) na dodávky nebo na služby částce 2 000 000 Kč, "
    "nebo b) na stavební práce částce 6 000 000 Kč' (quoted by cmud.cz); in force until "
    "the amendment by zákon č. 69/2025 Sb."
)
_SMALL_SCALE_2025 = (
    "Raised by zákon č. 69/2025 Sb. from 3 April 2025: ÚOHS press release of 12 March 2025 "
    '("ze dvou na tři miliony … ze šesti na devět milionů"). Procedures begun before then '
    "follow the old limits (their regime is derived on the day they started)."
)


def _small_scale(subject: Subject, amount: str, frm: date, to: date | None) -> Threshold:
    letter = "b)" if subject == "works" else "a)"
    period = "2025" if frm == AMENDMENT_2025_FROM else "2016"
    reference = f"§ 27 písm. {letter} {ZZVZ}"
    if period == "2025":
        reference += f", ve znění {AMENDMENT_2025}"
    return Threshold(
        id=f"small_scale_{subject}_{period}",
        kind="small_scale",
        subject=subject,
        buyer_kind="all",
        amount_czk=Decimal(amount),
        amount_eur=None,
        legal_reference=reference,
        effective_from=frm,
        effective_to=to,
        confidence="confirmed",
        note=_SMALL_SCALE_2025 if period == "2025" else _SMALL_SCALE_2016,
    )


_DAY_BEFORE_2025 = date(2025, 4, 2)

SMALL_SCALE: tuple[Threshold, ...] = tuple(
    row
    for subject, old, new in (
        ("supplies", "2000000", "3000000"),
        ("services", "2000000", "3000000"),
        ("works", "6000000", "9000000"),
    )
    for row in (
        _small_scale(subject, old, ZZVZ_FROM, _DAY_BEFORE_2025),  # type: ignore[arg-type]
        _small_scale(subject, new, AMENDMENT_2025_FROM, None),  # type: ignore[arg-type]
    )
)


@dataclass(frozen=True)
class _EuPeriod:
    """The EU thresholds of one two-year period: per class (central, sub_central, sectoral
    supplies and services; works) the EUR value and the CZK value with their confidence."""

    start: date
    end: date | None
    nv: str  # the government regulation that set the CZK values
    eu: str  # the EU delegated regulations that set the EUR values
    eur: dict[str, tuple[str, Confidence]]
    czk: dict[str, tuple[str, Confidence]]
    note: str


# Paragraphs of NV for each class; services are in § 3 with the same structure as § 2.
_NV_PARAGRAPH: dict[tuple[str, str], str] = {
    ("central", "supplies"): "§ 2 odst. 1 písm. a)",
    ("central", "services"): "§ 3 odst. 1 písm. a)",
    ("sub_central", "supplies"): "§ 2 odst. 1 písm. b)",
    ("sub_central", "services"): "§ 3 odst. 1 písm. b)",
    ("sectoral", "supplies"): "§ 2 odst. 2",
    ("sectoral", "services"): "§ 3 odst. 2",
}

_C: Confidence = "confirmed"
_S: Confidence = "secondary"
_U: Confidence = "unconfirmed"

EU_PERIODS: tuple[_EuPeriod, ...] = (
    _EuPeriod(
        start=ZZVZ_FROM,
        end=date(2017, 12, 31),
        nv=NV,
        eu="nařízení Komise v přenesené pravomoci (EU) 2015/2170, 2015/2171 a 2015/2172",
        eur={
            "central": ("135000", _C),
            "sub_central": ("209000", _C),
            "sectoral": ("418000", _S),
            "works": ("5225000", _C),
        },
        czk={
            "central": ("3686000", _C),
            "sub_central": ("5706000", _C),
            "sectoral": ("11413000", _C),
            "works": ("142668000", _S),
        },
        note="CZK supplies and services: the amounts that nařízení vlády č. 471/2017 Sb. "
        "replaced (its text, novyepis.cz); works 142,668,000 CZK from cmud.cz's table of "
        "limits; EUR from Delegated Regulation (EU) 2015/2170 (legislation.gov.uk copy). "
        "The regulation's own effective date (§ 6) was not read; it applies with ZZVZ.",
    ),
    _EuPeriod(
        start=date(2018, 1, 1),
        end=date(2019, 12, 31),
        nv=f"{NV}, ve znění nařízení vlády č. 471/2017 Sb.",
        eu="nařízení Komise v přenesené pravomoci (EU) 2017/2364, 2017/2365 a 2017/2366",
        eur={
            "central": ("144000", _S),
            "sub_central": ("221000", _S),
            "sectoral": ("443000", _S),
            "works": ("5548000", _C),
        },
        czk={
            "central": ("3873000", _C),
            "sub_central": ("5944000", _C),
            "sectoral": ("11915000", _C),
            "works": ("149224000", _S),
        },
        note="CZK supplies and services from the text of nařízení vlády č. 471/2017 Sb. "
        "(novyepis.cz); works from cmud.cz, eav.cz and stavebnionline.cz; EUR from "
        "Delegated Regulation (EU) 2017/2366 and a consultancy's table.",
    ),
    _EuPeriod(
        start=date(2020, 1, 1),
        end=date(2021, 12, 31),
        nv=f"{NV}, ve znění nařízení vlády č. 335/2019 Sb.",
        eu="nařízení Komise v přenesené pravomoci (EU) 2019/1827, 2019/1828 a 2019/1829",
        eur={
            "central": ("139000", _C),
            "sub_central": ("214000", _C),
            "sectoral": ("428000", _C),
            "works": ("5350000", _C),
        },
        czk={
            "central": ("3568000", _C),
            "sub_central": ("5494000", _S),
            "sectoral": ("10989000", _U),
            "works": ("137366000", _C),
        },
        note="CZK central and works from the ministry's portal (portal-vz.cz: 'stavební "
        "práce bude 137 366 000 Kč a pro dodávky a služby 3 568 000 Kč'); sub-central "
        "5,494,000 from eav.cz and asagraph.com; sectoral 10,989,000 only from one page "
        "(stavebnionline.cz) with a typo beside it, so unconfirmed. EUR from the Irish "
        "procurement office's notice of the 2020 thresholds.",
    ),
    _EuPeriod(
        start=date(2022, 1, 1),
        end=date(2023, 12, 31),
        nv=f"{NV}, ve znění nařízení vlády č. 475/2021 Sb.",
        eu="nařízení Komise v přenesené pravomoci (EU) 2021/1951, 2021/1952 a 2021/1953",
        eur={
            "central": ("140000", _C),
            "sub_central": ("215000", _C),
            "sectoral": ("431000", _C),
            "works": ("5382000", _C),
        },
        czk={
            "central": ("3653000", _C),
            "sub_central": ("5610000", _C),
            "sectoral": ("11247000", _C),
            "works": ("140448000", _C),
        },
        note="CZK from the ministry's portal (portal-vz.cz, 'Limity určující nadlimitní "
        "veřejné zakázky se mírně zvyšují') and the amounts nařízení vlády č. 435/2023 Sb. "
        "replaced; EUR from the European Commission's thresholds page.",
    ),
    _EuPeriod(
        start=date(2024, 1, 1),
        end=date(2025, 12, 31),
        nv=f"{NV}, ve znění nařízení vlády č. 435/2023 Sb.",
        eu="nařízení Komise v přenesené pravomoci (EU) 2023/2495, 2023/2496 a 2023/2497",
        eur={
            "central": ("143000", _C),
            "sub_central": ("221000", _C),
            "sectoral": ("443000", _C),
            "works": ("5538000", _C),
        },
        czk={
            "central": ("3494000", _C),
            "sub_central": ("5401000", _C),
            "sectoral": ("10826000", _C),
            "works": ("135348000", _C),
        },
        note="CZK from the regulation's text (§ 2, rizeniskoly.cz copy of the consolidated "
        "NV) and the ministry's portal ('Nadlimitní veřejné zakázky v letech 2024 a 2025'); "
        "EUR from the European Commission's thresholds page.",
    ),
    _EuPeriod(
        start=date(2026, 1, 1),
        end=date(2027, 12, 31),
        nv=f"{NV}, ve znění nařízení vlády č. 435/2023 Sb. (novela pro 2026–2027 nenalezena)",
        eu="nařízení Komise v přenesené pravomoci (EU) 2025/2152 (směrnice 2014/24/EU), "
        "2025/2150 (2014/25/EU) a 2025/2151 (2014/23/EU)",
        eur={
            "central": ("140000", _S),
            "sub_central": ("216000", _S),
            "sectoral": ("432000", _S),
            "works": ("5404000", _S),
        },
        czk={
            "central": ("3494000", _U),
            "sub_central": ("5401000", _U),
            "sectoral": ("10826000", _U),
            "works": ("135348000", _U),
        },
        note="EUR from mondaq.com (27 October 2025) and the Irish procurement office "
        "('apply from 1 January 2026'). NO CZK VALUE FOR 2026–2027 WAS FOUND: no source "
        "names a government regulation amending NV 172/2016 for these years (the latest "
        "consolidated text seen, of mid-2025, has the 435/2023 amounts). The CZK values "
        "the Czech amendment would copy are in the Commission's Communication C/2025/7081 "
        "(OJ C 2025/5732, 23.10.2025, corresponding values in national currencies), which "
        "the EU's GPA notification for 2026-2027 cites; its table was not read. Until one is found "
        "the CZK amount of 2024–2025 is used, because the regulation applies until it is "
        "amended; replace this row when the amendment is found.",
    ),
)


def _least(*grades: Confidence) -> Confidence:
    order: tuple[Confidence, ...] = ("unconfirmed", "secondary", "confirmed")
    return min(grades, key=order.index)


def _eu_rows(period: _EuPeriod) -> list[Threshold]:
    rows = []
    for buyer_kind in ("central", "sub_central", "sectoral"):
        for subject in ("supplies", "services", "works"):
            key = "works" if subject == "works" else buyer_kind
            czk, czk_grade = period.czk[key]
            eur, eur_grade = period.eur[key]
            paragraph = _NV_PARAGRAPH.get((buyer_kind, subject), "§ 4")
            rows.append(
                Threshold(
                    id=f"eu_{buyer_kind}_{subject}_{period.start.year}",
                    kind="eu",
                    subject=subject,
                    buyer_kind=buyer_kind,
                    amount_czk=Decimal(czk),
                    amount_eur=Decimal(eur),
                    legal_reference=f"§ 25 {ZZVZ}; {paragraph} {period.nv}; {period.eu}",
                    effective_from=period.start,
                    effective_to=period.end,
                    confidence=_least(czk_grade, eur_grade),
                    note=period.note,
                )
            )
    return rows


def _thresholds() -> tuple[Threshold, ...]:
    rows: list[Threshold] = list(SMALL_SCALE)
    for period in EU_PERIODS:
        rows += _eu_rows(period)
    return tuple(rows)


THRESHOLDS: tuple[Threshold, ...] = _thresholds()


# --- deadlines ----------------------------------------------------------------------------


def _version(
    rule_id: str,
    days: int,
    day_kind: DayKind,
    reference: str,
    note: str,
    *,
    frm: date = ZZVZ_FROM,
    to: date | None = None,
    value_above: str | None = None,
    confidence: Confidence = "confirmed",
    applies_by: AppliesBy = "period_start",
) -> DeadlineVersion:
    return DeadlineVersion(
        rule_id=rule_id,
        days=days,
        day_kind=day_kind,
        value_above=Decimal(value_above) if value_above is not None else None,
        legal_reference=reference,
        effective_from=frm,
        effective_to=to,
        confidence=confidence,
        note=note,
        applies_by=applies_by,
    )


_BEFORE_2023 = date(2023, 7, 15)
RS_FROM = date(2016, 7, 1)
RS_VOIDNESS_FROM = date(2017, 7, 1)

_S54 = (
    "Text of § 54 read (lexikonvz.cz, § 54 Lhůty pro podlimitní veřejné zakázky); the same "
    "figures in nzvz.cz (6 June 2016), so unchanged since 2016."
)
_S59 = "Text of § 59 read (lexikonvz.cz, § 59 Lhůty v užším řízení)."
_JRSU = (
    "Value stated by a secondary source (businessinfo.cz, veřejné zakázky guide: 30 days "
    "for requests, 25 days for preliminary bids); the statute's text was not read and the "
    "paragraph is inferred from the act's structure (§ 59 for the restricted procedure)."
)

DEADLINES: tuple[DeadlineVersion, ...] = (
    # Bid periods (lhůty pro podání nabídek) and periods for requests to participate.
    _version(
        "bid_period_open_above_threshold",
        30,
        "calendar",
        f"§ 57 odst. 1 {ZZVZ}",
        "30 calendar days stated by nzvz.cz (6 June 2016: 'nadlimitní otevřené řízení – 30 "
        "(kalendářních) dnů'); the statute's text and paragraph were not read. Shortening "
        "after a prior information notice or in urgency is not modelled.",
        confidence="secondary",
    ),
    _version(
        "bid_period_open_below_threshold_supplies_services",
        15,
        "working",
        f"§ 54 odst. 2 písm. a) {ZZVZ}",
        f"{_S54} Shortening by up to 5 working days after a prior information notice "
        "(§ 54 odst. 4) is not modelled.",
    ),
    _version(
        "bid_period_open_below_threshold_works",
        20,
        "working",
        f"§ 54 odst. 2 písm. b) {ZZVZ}",
        _S54,
    ),
    _version(
        "bid_period_simplified_below_threshold",
        11,
        "working",
        f"§ 54 odst. 1 {ZZVZ}",
        f"{_S54} The same period for supplies, services and works, from the start of the "
        "procedure (the call published on the buyer profile or sent).",
    ),
    _version(
        "bid_period_restricted_below_threshold",
        15,
        "working",
        f"§ 54 odst. 3 písm. c) {ZZVZ}",
        _S54,
    ),
    _version(
        "bid_period_negotiated_with_publication_below_threshold",
        15,
        "working",
        f"§ 54 odst. 3 písm. b) {ZZVZ}",
        f"{_S54} Preliminary bids (předběžné nabídky).",
    ),
    _version(
        "participation_period_restricted_below_threshold",
        15,
        "working",
        f"§ 54 odst. 3 písm. a) {ZZVZ}",
        _S54,
    ),
    _version(
        "participation_period_negotiated_with_publication_below_threshold",
        15,
        "working",
        f"§ 54 odst. 3 písm. a) {ZZVZ}",
        _S54,
    ),
    _version(
        "bid_period_restricted_above_threshold",
        25,
        "calendar",
        f"§ 59 odst. 2 {ZZVZ}",
        f"{_S59} 'nejméně 25 dnů od odeslání výzvy k podání nabídky' (not the 30 days "
        "for requests to participate); the extensions of odst. 2 and shortenings of odst. 3 "
        "and 4 are not modelled.",
    ),
    _version(
        "participation_period_restricted_above_threshold",
        30,
        "calendar",
        f"§ 59 odst. 1 {ZZVZ}",
        f"{_S59} 'nejméně 30 dnů od zahájení užšího řízení'.",
    ),
    _version(
        "bid_period_negotiated_with_publication_above_threshold",
        25,
        "calendar",
        f"§ 62 odst. 2 {ZZVZ}",
        _JRSU,
        confidence="secondary",
    ),
    _version(
        "participation_period_negotiated_with_publication_above_threshold",
        30,
        "calendar",
        f"§ 62 odst. 1 {ZZVZ}",
        _JRSU,
        confidence="secondary",
    ),
    _version(
        "participation_period_competitive_dialogue_above_threshold",
        30,
        "calendar",
        f"§ 68 a násl. {ZZVZ}",
        "30 days for requests to participate as in Art. 30 of Directive 2014/24/EU; no "
        "stored source states the Czech provision or confirms the transposition. No "
        "statutory minimum period for the bids was found.",
        confidence="unconfirmed",
    ),
    _version(
        "participation_period_innovation_partnership_above_threshold",
        30,
        "calendar",
        f"§ 70 a násl. {ZZVZ}",
        "30 days for requests to participate as in Art. 31 of Directive 2014/24/EU; no "
        "stored source states the Czech provision or confirms the transposition. No "
        "statutory minimum period for the bids was found.",
        confidence="unconfirmed",
    ),
    # Objections (námitky) and the standstill period.
    _version(
        "contract_after_objection_period",
        15,
        "calendar",
        f"§ 242 odst. 2 a § 246 odst. 1 písm. a) {ZZVZ}",
        "15 days for objections and no contract before they end: stated by telfa.law ('New "
        "public procurement in the Czech Republic', part three) and review clauses of Czech "
        "tender notices; the statute's text was not read. Counted from the day the "
        "selection is recorded (the law counts from its notification). The exception when "
        "only one supplier bid (§ 246 odst. 2) is applied but its text was not read.",
        confidence="secondary",
    ),
    _version(
        "objection_decided_within_15_days",
        15,
        "calendar",
        f"§ 245 odst. 1 {ZZVZ}",
        "'Zadavatel je povinen námitky vyřídit do 15 dnů' (review clause of a Czech tender "
        "notice) and telfa.law; the statute's text was not read.",
        confidence="secondary",
    ),
    # Publication of the contract (uveřejnění smlouvy) on the buyer profile.
    _version(
        "contract_on_buyer_profile",
        15,
        "calendar",
        f"§ 219 odst. 1 {ZZVZ}",
        "As enacted: 'do 15 dnů od jejich uzavření', contracts above 500,000 CZK excl. VAT "
        "(§ 219 odst. 1 písm. a)), quoted by slezska.ostrava.cz and respekta.cz. A contract "
        "in the contract register needs no profile publication (písm. d)). ÚOHS S0051/2023 "
        "judged a contract of 3.5.2021 against 've lhůtě do 15 dnů'; S0624/2023 (2.10.2023) "
        "judged one of 21.12.2022 against 30 days, most likely as the later law more "
        "favourable to the offender (§ 2 odst. 1 zákona č. 250/2016 Sb.; the reasoning was "
        "not read). That rule concerns the fine, not the duty: the finding here keeps the "
        "15 days in force when the contract was signed.",
        to=_BEFORE_2023,
        value_above="500000",
    ),
    _version(
        "contract_on_buyer_profile",
        30,
        "calendar",
        f"§ 219 odst. 1 {ZZVZ}, ve znění {AMENDMENT_2023}",
        "'do 30 dnů od jejich uzavření' from 16 July 2023 (consolidated text at 16.7.2023, "
        "zakony.kurzy.cz; zákon č. 166/2023 Sb. in force 16 July 2023 per denik.obce.cz). "
        "The amending act's transitional article (čl. II) was not read (sagit.cz holds the "
        "act, only its čl. I was seen); CMS (June 2023) reads it as procedures begun after "
        "16 July 2023 following the new law. A contract signed from that day gets 30 days.",
        frm=AMENDMENT_2023_FROM,
        to=_DAY_BEFORE_2025,
        value_above="500000",
    ),
    _version(
        "contract_on_buyer_profile",
        30,
        "calendar",
        f"§ 219 odst. 1 {ZZVZ}, ve znění {AMENDMENT_2025}",
        "Value limit 1,000,000 CZK excl. VAT from 3 April 2025: cijeurope.com (22 January "
        "2025, the bill as passed by the Chamber: 'from CZK 500,000 to CZK 1 million'); the "
        "ÚOHS press release of 12 March 2025 confirms the raise without the figure. No "
        "transitional provision was found in zákon č. 69/2025 Sb. (its table of contents on "
        "novyepis.cz: čl. III amends ZZVZ, čl. VI účinnost, no 'Přechodná ustanovení' "
        "heading; the text of čl. III was not readable): a contract signed from that day "
        "follows the new limit.",
        frm=AMENDMENT_2025_FROM,
        value_above="1000000",
        confidence="secondary",
    ),
    _version(
        "price_paid_on_buyer_profile",
        3,
        "months",
        f"§ 219 odst. 3 {ZZVZ}",
        "'nejpozději do 3 měsíců od splnění smlouvy' for contracts that § 219 odst. 1 "
        "requires to be published (so above its value limit), consolidated text at "
        "16.7.2023. Contracts longer than a year (by 31 March of the next year) are not "
        "modelled.",
        to=_DAY_BEFORE_2025,
        value_above="500000",
    ),
    _version(
        "price_paid_on_buyer_profile",
        3,
        "months",
        f"§ 219 odst. 3 {ZZVZ}, ve znění {AMENDMENT_2025}",
        "The value limit of § 219 odst. 1 as raised by zákon č. 69/2025 Sb. (see "
        "contract_on_buyer_profile).",
        frm=AMENDMENT_2025_FROM,
        value_above="1000000",
        confidence="secondary",
    ),
    # Contract register (registr smluv).
    _version(
        "contract_register_30_days",
        30,
        "calendar",
        f"§ 5 odst. 2 {RS}",
        "'nejpozději však do 30 dnů od jejich uzavření' (ustinadorlici.cz), § 5 odst. 2 named "
        "by respekta.cz; contracts above 50,000 CZK excl. VAT (exemption in § 3 odst. 2, "
        "slezska.ostrava.cz, noerr.com; its letter not confirmed). The statute's text was "
        "not read; other exemptions of § 3 odst. 2 are not modelled.",
        frm=RS_FROM,
        value_above="50000",
        confidence="secondary",
    ),
    _version(
        "contract_register_void_after_3_months",
        3,
        "months",
        f"§ 7 odst. 1 {RS}",
        "Not published within 3 months of its conclusion: cancelled from the start "
        "(intellego.cz quoting § 7 odst. 1; businessinfo.cz). §§ 6 and 7 apply from 1 July "
        "2017 (hlidacsmluv.cz 'Co se změní 1.7.2017'; epravo.cz).",
        frm=RS_VOIDNESS_FROM,
        value_above="50000",
        confidence="secondary",
    ),
    # Notices and reports.
    _version(
        "result_notice_30_days",
        30,
        "calendar",
        f"§ 126 {ZZVZ}",
        "30 days as in Art. 50 of Directive 2014/24/EU; no stored source for § 126 ZZVZ was "
        "found (those found concern the repealed act).",
        confidence="unconfirmed",
    ),
    _version(
        "written_report_30_days",
        30,
        "calendar",
        f"§ 217 {ZZVZ}",
        "The duty to write the report is in § 217 odst. 1 (lexikonvz.cz); no source found "
        "states a period for publishing it, so this period is a placeholder.",
        confidence="unconfirmed",
    ),
)


# --- other limits -------------------------------------------------------------------------

LIMITS: tuple[LegalLimit, ...] = (
    LegalLimit(
        id="amendment_share_supplies_services",
        value=Decimal("0.10"),
        unit="share",
        legal_reference=f"§ 222 odst. 4 písm. b) bod 1 {ZZVZ}",
        effective_from=ZZVZ_FROM,
        effective_to=None,
        confidence="secondary",
        note="A change below 10 % of the original value of a supplies or services contract "
        "(and below the EU threshold, písm. a)) needs no new procedure: epravo.cz "
        "commentary on § 222 odst. 4; the statute's text was not read.",
    ),
    LegalLimit(
        id="amendment_share_works",
        value=Decimal("0.15"),
        unit="share",
        legal_reference=f"§ 222 odst. 4 písm. b) bod 2 {ZZVZ}",
        effective_from=ZZVZ_FROM,
        effective_to=None,
        confidence="secondary",
        note="The same for works, 15 % of the original value (epravo.cz commentary).",
    ),
)


PERIOD_COUNTING = (
    "ZZVZ has no rule of its own for counting periods; the Civil Code applies (zákon "
    "č. 89/2012 Sb., §§ 605-607): a period in days starts on the day after the event "
    "(§ 605 odst. 1), a period in months ends on the day with the same number (§ 605 "
    "odst. 2), and a period ending on a Saturday, Sunday or public holiday ends on the next "
    "working day (§ 607). Working days skip weekends and Czech public holidays (zákon "
    "č. 245/2000 Sb.). Dates are Prague dates. Sources: nzvz.cz (6 June 2016) on § 605; "
    "the text of § 607."
)


# --- look-ups -----------------------------------------------------------------------------

_DEADLINES_BY_RULE: dict[str, list[DeadlineVersion]] = defaultdict(list)
_LIMITS_BY_ID: dict[str, list[LegalLimit]] = defaultdict(list)


def _index() -> None:
    _DEADLINES_BY_RULE.clear()
    _LIMITS_BY_ID.clear()
    for version in DEADLINES:
        _DEADLINES_BY_RULE[version.rule_id].append(version)
    for limit in LIMITS:
        _LIMITS_BY_ID[limit.id].append(limit)


def threshold(kind: str, subject: str, on: date, buyer_kind: str = "sub_central") -> Threshold:
    """The limit of ``kind`` for ``subject`` (and ``buyer_kind``) in force on ``on``."""
    key = "all" if kind == "small_scale" else buyer_kind
    for row in THRESHOLDS:
        if row.kind == kind and row.subject == subject and row.buyer_kind == key:
            if in_force(row, on):
                return row
    raise NotInForce(f"no {kind} threshold for {subject} ({key}) in force on {on}")


def regime_for(subject: str, value: Decimal, on: date) -> Regime:
    """small_scale (≤ the § 27 limit), above_threshold (≥ the EU limit for sub-central
    buyers: municipalities, § 4 odst. 1 písm. d) ZZVZ), else below_threshold."""
    if value <= threshold("small_scale", subject, on).amount_czk:
        return "small_scale"
    if value >= threshold("eu", subject, on).amount_czk:
        return "above_threshold"
    return "below_threshold"


def deadline_version(rule_id: str, on: date) -> DeadlineVersion | None:
    """The version of ``rule_id`` in force on ``on`` (None: the rule did not apply then)."""
    for version in _DEADLINES_BY_RULE.get(rule_id, ()):
        if in_force(version, on):
            return version
    return None


def deadline_versions(rule_id: str) -> list[DeadlineVersion]:
    return list(_DEADLINES_BY_RULE.get(rule_id, ()))


def limit(limit_id: str, on: date) -> LegalLimit:
    for row in _LIMITS_BY_ID.get(limit_id, ()):
        if in_force(row, on):
            return row
    raise NotInForce(f"no value of {limit_id} in force on {on}")


_index()
