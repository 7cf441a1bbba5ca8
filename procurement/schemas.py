"""API models of the procurement trail: procurements, typed step payloads (a discriminated
union on ``type``), recorded steps, findings, the timeline and the procedure rules."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
)
from stdnum.cz import dic

from api.text import AsciiNumber, Lines, OneLine

# How far ahead of the server clock an occurred_at may lie (clients' clocks drift).
CLOCK_SKEW = timedelta(minutes=5)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST_DATE = date(2100, 12, 31)

ProcedureId = Literal[
    "open",
    "restricted",
    "negotiated_with_publication",
    "negotiated_without_publication",
    "competitive_dialogue",
    "innovation_partnership",
    "simplified_below_threshold",
    "concession",
    "design_contest",
    "small_scale",
]
SubjectId = Literal["supplies", "services", "works"]
RegimeId = Literal["small_scale", "below_threshold", "above_threshold"]
StatusId = Literal[
    "planned", "tendering", "evaluating", "awarded", "contracted", "completed", "cancelled"
]


def _ico(value: str) -> str:
    if not dic.is_valid(value):
        raise ValueError("not a valid IČO (8 digits with the mod-11 check digit)")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL with a host")
    if any(c.isspace() or ord(c) < 32 for c in value):
        raise ValueError("a URL must not contain spaces or control characters")
    return value


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _money_text(value: Decimal) -> str:
    return f"{value:.2f}"


def _utc(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    if value < EARLIEST:
        raise ValueError("must not lie before 1990")
    if value.date() > LATEST_DATE:
        raise ValueError("must not lie after 2100")
    return value


def _not_future_moment(value: datetime) -> datetime:
    value = _utc(value)
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("must not lie in the future (a step records what has happened)")
    return value


def _past_date(value: date) -> date:
    if value < EARLIEST.date():
        raise ValueError("must not lie before 1990")
    # A day of slack: the caller's local date may be ahead of the server's UTC date.
    if value > datetime.now(UTC).date() + timedelta(days=1):
        raise ValueError("must not lie in the future")
    return value


def _sha256(value: str) -> str:
    return value.lower()


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, ensure_ascii=False)) > 20_000:
        raise ValueError("at most 20,000 characters of JSON")
    return value


# One-line names and ids; multi-line reasons and summaries (api/text.py: no hidden characters).
Text100 = Annotated[
    str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True), OneLine
]
Text300 = Annotated[
    str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True), OneLine
]
Text2000 = Annotated[
    str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True), Lines
]
Text5000 = Annotated[
    str, StringConstraints(min_length=1, max_length=5000, strip_whitespace=True), Lines
]
Ico = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{8}$"),
    AfterValidator(_ico),
    Field(description="IČO: 8 digits with the mod-11 check digit", examples=["00064581"]),
]
HttpUrlText = Annotated[
    str,
    StringConstraints(min_length=8, max_length=2000),
    OneLine,
    AfterValidator(_http_url),
    Field(description="An http or https URL", examples=["https://example.cz/doc.pdf"]),
]
Money = Annotated[
    Decimal,
    AsciiNumber,
    Field(ge=0, max_digits=16, decimal_places=2, examples=["1250000.00"]),
    AfterValidator(_two_places),
    PlainSerializer(_money_text, return_type=str, when_used="json"),
]
SignedMoney = Annotated[
    Decimal,
    AsciiNumber,
    Field(max_digits=16, decimal_places=2, examples=["-20000.00"]),
    AfterValidator(_two_places),
    PlainSerializer(_money_text, return_type=str, when_used="json"),
]
UtcMoment = Annotated[AwareDatetime, AfterValidator(_utc)]
PastMoment = Annotated[AwareDatetime, AfterValidator(_not_future_moment)]
PastDate = Annotated[date, AfterValidator(_past_date)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$"), AfterValidator(_sha256)]
CpvCodeText = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{8}-[0-9]$"),
    Field(description="CPV 2008 code NNNNNNNN-N", examples=["34993000-4"]),
]


MEDIA_TYPE = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- procurements ------------------------------------------------------------------------


class ExternalIds(Strict):
    """Where the procurement is known elsewhere."""

    buyer_profile: HttpUrlText | None = Field(default=None, description="profil zadavatele")
    vvz: Text100 | None = Field(default=None, description="Věstník veřejných zakázek")
    ted: Text100 | None = Field(default=None, description="Tenders Electronic Daily")
    nen: Text100 | None = Field(default=None, description="Národní elektronický nástroj")
    contract_register: Text100 | None = Field(default=None, description="Registr smluv")
    buyer_profile_code: Text100 | None = Field(
        default=None,
        description="profil_kod: the buyer profile's number in the VVZ (set by imports)",
    )
    buyer_profile_procurement_id: Text100 | None = Field(
        default=None,
        description="The zakázka's id on the buyer profile (id_objektu, or kod_vz_na_profilu "
        "in the 2016 structure; set by imports)",
    )
    buyer_profile_part_id: Text100 | None = Field(
        default=None,
        description="The part's id on the buyer profile (cast_zakazky id_objektu, or "
        "cislo_casti in the 2016 structure; set by imports)",
    )


class ProcurementCreate(Strict):
    buyer_code: str = Field(pattern=r"^[0-9]{6}$", description="kód obce of the buyer")
    title: Text300
    description: Annotated[str, Lines] = Field(default="", max_length=20_000)
    subject: SubjectId
    procedure: ProcedureId
    estimated_value_excl_vat: Money
    currency: Literal["CZK"] = "CZK"
    cpv: list[CpvCodeText] = Field(default_factory=list, max_length=20)
    solution_ids: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        default_factory=list, max_length=50
    )
    external_ids: ExternalIds = Field(default_factory=ExternalIds)
    started_on: date | None = Field(
        default=None,
        description="The day the procedure began (for a trail recorded after the fact); "
        "default today in Prague. The regime is derived with the law of this day.",
        examples=["2025-03-10"],
    )
    legal_ground: Text300 | None = Field(
        default=None,
        description="The legal ground of the chosen procedure, where the law asks for one "
        "(a negotiated procedure without publication names its § 63-66 ZZVZ ground); OCDS "
        "tender.procurementMethodRationale",
        examples=["§ 63 odst. 3 písm. b) ZZVZ"],
    )


class ProcurementPublic(BaseModel):
    ocid: str
    buyer_code: str
    title: str
    description: str
    subject: SubjectId
    procedure: ProcedureId
    regime: RegimeId
    status: StatusId
    estimated_value_excl_vat: Money
    currency: str
    cpv: list[str]
    solution_ids: list[int]
    external_ids: dict[str, str]
    started_on: date = Field(description="The day the procedure began (its law applies)")
    legal_ground: str | None = Field(
        default=None, description="The legal ground of the chosen procedure, if given"
    )
    created_at: datetime
    created_by_key_id: str | None
    step_count: int = Field(description="Steps recorded so far (the last seq)")
    last_entry_hash: str | None


# --- steps -------------------------------------------------------------------------------


class Document(Strict):
    title: Text300
    url: HttpUrlText
    sha256: Sha256
    size: int = Field(ge=0, le=10**13)
    media_type: str = Field(max_length=100, pattern=MEDIA_TYPE)


class Supplier(Strict):
    ico: Ico
    name: Text300


class Bid(Strict):
    ico: Ico
    name: Text300
    price_excl_vat: Money


class Exclusion(Strict):
    ico: Ico
    reason: Text2000


class ProcurementApprovedData(Strict):
    body: Literal["council", "board", "mayor"] = Field(
        description="council = zastupitelstvo, board = rada, mayor = starosta"
    )
    resolution_id: Text100


class NoticePublishedData(Strict):
    channel: Literal["vvz", "ted", "profile"]
    notice_id: Text100
    url: HttpUrlText
    bid_deadline: UtcMoment


class InvitationSentData(Strict):
    suppliers: list[Supplier] = Field(min_length=1, max_length=100)
    bid_deadline: UtcMoment


class TenderDocumentsPublishedData(Strict):
    url: HttpUrlText


class ClarificationPublishedData(Strict):
    summary: Text5000
    url: HttpUrlText | None = None


class BidDeadlineExtendedData(Strict):
    new_bid_deadline: UtcMoment
    reason: Text2000


class BidsOpenedData(Strict):
    bids: list[Bid] = Field(max_length=500)


class EvaluationCompletedData(Strict):
    excluded: list[Exclusion] = Field(default_factory=list, max_length=500)
    summary: Text5000 | None = None


class SelectionDecidedData(Strict):
    winner_ico: Ico
    winner_name: Text300
    price_excl_vat: Money
    resolution_id: Text100 | None = Field(
        default=None, description="the council's or board's resolution, where one decided"
    )


class ObjectionFiledData(Strict):
    objector_ico: Ico
    summary: Text5000


class ObjectionDecidedData(Strict):
    outcome: Literal["upheld", "rejected"]
    summary: Text5000


class ContractSignedData(Strict):
    supplier_ico: Ico
    supplier_name: Text300
    value_excl_vat: Money
    signed_on: PastDate
    form: Literal["contract", "order"] = Field(
        default="contract", description="order = objednávka (small-scale purchases)"
    )


class ContractPublishedData(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # "register" would shadow BaseModel.register; the JSON member keeps that name.
    register_: Literal["profile", "contract_register"] = Field(alias="register")
    id: Text100
    url: HttpUrlText


class ResultNoticePublishedData(Strict):
    channel: Literal["vvz", "ted", "profile"]
    notice_id: Text100
    url: HttpUrlText


class ContractAmendedData(Strict):
    value_change_excl_vat: SignedMoney
    reason: Text2000


class PaymentMadeData(Strict):
    amount_excl_vat: Money
    paid_on: PastDate


class PricePaidPublishedData(Strict):
    url: HttpUrlText
    amount_excl_vat: Money


class ReportPublishedData(Strict):
    url: HttpUrlText


class CompletedData(Strict):
    pass


class CancelledData(Strict):
    reason: Text2000
    legal_basis: Text300 = Field(examples=["§ 127 odst. 1 zákona č. 134/2016 Sb."])


class CorrectionData(Strict):
    corrects_seq: int = Field(ge=1, le=2_147_483_647)
    reason: Text2000
    corrected: Annotated[dict[str, Any], AfterValidator(_bounded_json)] = Field(
        description="The corrected values of the corrected step's data (a partial object)"
    )


class StepBase(Strict):
    occurred_at: PastMoment = Field(description="When it happened (not in the future)")
    documents: list[Document] = Field(default_factory=list, max_length=50)


ConfidenceId = Literal["confirmed", "secondary", "unconfirmed"]
CONFIDENCE_DESCRIPTION = (
    "confirmed: the statute's text or an official source was read for it; secondary: a "
    "commentary, law firm or press source states it, the statute's text was not read; "
    "unconfirmed: no source read states it (see the note)"
)


class Finding(BaseModel):
    """A statutory deadline that was not kept (recorded, never refused)."""

    rule_id: str
    legal_reference: str
    description: str
    severity: Literal["low", "medium", "high", "critical"]
    kind: Literal["within", "at_least", "after"]
    from_step: str
    from_seq: int | None
    step_type: str
    seq: int | None = Field(description="The step that breached it; null when still open")
    due_date: date
    actual_date: date | None = Field(description="null: the required step is still missing")
    confidence: ConfidenceId = Field(description=CONFIDENCE_DESCRIPTION)


class StepRecorded(BaseModel):
    """What a recorded step got: its place in the chain and in the log."""

    ocid: str
    seq: int
    type: str
    leaf_index: int
    entry_hash: str
    prev_hash: str | None
    occurred_at: datetime
    recorded_at: datetime
    findings: list[Finding] = Field(
        description="The findings when the step was recorded (part of its ledger entry)"
    )


class StepPublic(StepRecorded):
    actor: str | None
    data: dict[str, Any] = Field(description="The data as recorded (never changed)")
    documents: list[dict[str, Any]]
    corrected_by: list[int] = Field(
        default_factory=list, description="seqs of the correction steps that fix this one"
    )
    effective_data: dict[str, Any] = Field(
        default_factory=dict,
        description="data with every later correction applied, in seq order (what the "
        "timeline, findings, red flags and OCDS read)",
    )
    imported_from: dict[str, Any] | None = Field(
        default=None,
        description="For a step imported from an official export (a buyer profile): the "
        "file's SHA-256, the element path the step comes from, the element that dates it, "
        "and the order rule it was recorded without (order_note); part of its ledger entry. "
        "null for steps posted through the API",
    )


class TimelineStep(StepPublic):
    pass


class OpenDeadline(BaseModel):
    rule_id: str
    legal_reference: str
    description: str
    step_type: str = Field(description="The step that must happen")
    from_step: str
    from_seq: int
    due_date: date
    kind: Literal["within"]
    overdue: bool


class Timeline(BaseModel):
    ocid: str
    status: StatusId
    procedure: ProcedureId
    regime: RegimeId
    started_on: date
    steps: list[TimelineStep]
    findings: list[Finding] = Field(
        description="Every statutory period the trail breaks, measured on the effective "
        "(corrected) steps with the law of their dates: breaches by recorded steps, then "
        "periods already missed"
    )
    next_deadline: OpenDeadline | None
    open_deadlines: list[OpenDeadline]


# --- the law and the procedures ------------------------------------------------------------


class ThresholdPublic(BaseModel):
    """A financial limit that decides a procurement's regime."""

    id: str
    kind: Literal["small_scale", "eu"] = Field(
        description="small_scale: the highest value of a small-scale contract (§ 27); eu: "
        "the lowest value of an above-threshold contract (§ 25)"
    )
    subject: SubjectId
    buyer_kind: Literal["all", "sub_central", "central", "sectoral"] = Field(
        description="all: every buyer (the small-scale limits); sub_central: municipalities "
        "and regions (§ 4 odst. 1 písm. d)); "
        "central: the state; sectoral: sector buyers (§ 151)"
    )
    amount_czk: Money
    amount_eur: Money | None
    legal_reference: str
    effective_from: date
    effective_to: date | None = Field(description="The last day it applies; null: open")
    confidence: ConfidenceId = Field(description=CONFIDENCE_DESCRIPTION)
    note: str


class LawDeadlinePublic(BaseModel):
    """The values of a statutory period in one version of the law."""

    rule_id: str
    days: int
    day_kind: Literal["calendar", "working", "months"]
    value_above: Money | None = Field(
        description="The period applies only above this value (CZK excl. VAT)"
    )
    legal_reference: str
    effective_from: date
    effective_to: date | None = Field(description="The last day it applies; null: open")
    applies_by: Literal["period_start", "procedure_start"] = Field(
        description="Which day picks this version: the day the period starts, or the day "
        "the procurement started (a transitional provision)"
    )
    confidence: ConfidenceId = Field(description=CONFIDENCE_DESCRIPTION)
    note: str
    description: str = Field(description="What the period requires, with these values")
    procedures: list[str] = Field(description="The procedures whose steps it applies to")


class LawLimitPublic(BaseModel):
    """Another statutory value (a share of a contract's value)."""

    id: str
    value: Annotated[Decimal, PlainSerializer(lambda v: f"{v:.4f}", return_type=str)]
    unit: Literal["share"]
    legal_reference: str
    effective_from: date
    effective_to: date | None
    confidence: ConfidenceId = Field(description=CONFIDENCE_DESCRIPTION)
    note: str


class LawPublic(BaseModel):
    """The statutory values in force on a day (or every version, with history)."""

    on: date | None = Field(description="The day asked for; null with history=true")
    thresholds: list[ThresholdPublic]
    deadlines: list[LawDeadlinePublic]
    limits: list[LawLimitPublic]
    period_counting: str = Field(
        description="How periods are counted (the Civil Code applies; ZZVZ has no rule of its own)"
    )


class DeadlinePublic(BaseModel):
    rule_id: str
    from_step: str
    from_field: str | None
    at_field: str | None
    days: int
    day_kind: Literal["calendar", "working", "months"]
    kind: Literal["within", "at_least", "after"]
    legal_reference: str
    effective_from: date
    effective_to: date | None
    description: str
    severity: str
    regimes: list[str] | None
    subjects: list[str] | None
    when: dict[str, str]
    applies_above_value: str | None
    confidence: ConfidenceId = Field(description=CONFIDENCE_DESCRIPTION)
    note: str


class StepRulePublic(BaseModel):
    type: str
    requires: list[str]
    requires_one_of: list[str]
    repeatable: bool
    terminal: bool
    deadlines: list[DeadlinePublic]


class ProcedurePublic(BaseModel):
    id: str
    name_cs: str
    name_en: str
    legal_reference: str
    regimes: list[str]
    steps: list[StepRulePublic]
    allowed_after_completed: list[str]
    allowed_after_cancelled: list[str]
    confidence: ConfidenceId = Field(description=CONFIDENCE_DESCRIPTION)
    note: str


class ProceduresPublic(BaseModel):
    on: date = Field(description="The day whose law the deadlines and thresholds show")
    procedures: list[ProcedurePublic]
    thresholds: list[ThresholdPublic]
