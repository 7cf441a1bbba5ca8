"""The step-type registry: the one place a step type is defined.

Each entry names the type's data model (the typed ``data`` of a posted step), the status the
procurement reaches with it, whether it repeats or ends the trail and what may follow an
end, and its OCDS mapping (release tag and document type). The request models of
``POST /steps`` (a discriminated union on ``type``) are built from this table, and the
procedure tables (``procurement.rules``) say which types a procedure uses, in which order,
and the statutory deadlines that hang on them. Adding a step type is one entry here (and its
data model in ``procurement.schemas``), then listing it in the procedures that use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, Field, create_model, model_validator

from procurement import schemas as s

Status = s.StatusId
# The order in which statuses supersede each other: the trail's status is the furthest one
# any of its step types reaches (a cancellation ends it whatever came before).
STATUS_ORDER: tuple[Status, ...] = (
    "planned",
    "tendering",
    "evaluating",
    "awarded",
    "contracted",
    "completed",
    "cancelled",
)


@dataclass(frozen=True)
class StepType:
    name: str
    data: type[BaseModel]
    description: str
    ocds_tag: str  # releaseTag codelist
    ocds_document_type: str  # documentType codelist, for the step's documents and links
    status: Status | None = None
    repeatable: bool = False
    terminal: bool = False
    after_completed: bool = False  # may still be recorded once the trail is completed
    after_cancelled: bool = False  # ... or cancelled
    # A moment in ``data`` that must lie after ``occurred_at`` (a bid deadline).
    later_than_occurred: str | None = None


_TYPES: tuple[StepType, ...] = (
    StepType(
        "procurement_approved",
        s.ProcurementApprovedData,
        "The council, board or mayor approved the purchase (schválení zakázky).",
        ocds_tag="planning",
        ocds_document_type="procurementPlan",
    ),
    StepType(
        "notice_published",
        s.NoticePublishedData,
        "A notice or call for competition was published (VVZ, TED or the buyer profile). In "
        "two-stage procedures its bid_deadline is the deadline for requests to participate.",
        ocds_tag="tender",
        ocds_document_type="tenderNotice",
        status="tendering",
        later_than_occurred="bid_deadline",
    ),
    StepType(
        "invitation_sent",
        s.InvitationSentData,
        "Chosen suppliers were invited to bid (výzva; a price inquiry in small-scale purchases).",
        ocds_tag="tender",
        ocds_document_type="tenderNotice",
        status="tendering",
        later_than_occurred="bid_deadline",
    ),
    StepType(
        "tender_documents_published",
        s.TenderDocumentsPublishedData,
        "The tender documents (zadávací dokumentace) were published.",
        ocds_tag="tender",
        ocds_document_type="biddingDocuments",
        status="tendering",
    ),
    StepType(
        "clarification_published",
        s.ClarificationPublishedData,
        "Explanations of the tender documents (vysvětlení zadávací dokumentace).",
        ocds_tag="tenderUpdate",
        ocds_document_type="clarifications",
        repeatable=True,
    ),
    StepType(
        "bid_deadline_extended",
        s.BidDeadlineExtendedData,
        "The bid deadline was extended.",
        ocds_tag="tenderAmendment",
        ocds_document_type="tenderNotice",
        repeatable=True,
    ),
    StepType(
        "bids_opened",
        s.BidsOpenedData,
        "The bids were opened (otevírání nabídek), with their prices.",
        ocds_tag="tenderUpdate",
        ocds_document_type="bidders",
        status="evaluating",
    ),
    StepType(
        "evaluation_completed",
        s.EvaluationCompletedData,
        "The evaluation ended; excluded suppliers with their reasons.",
        ocds_tag="tenderUpdate",
        ocds_document_type="evaluationReports",
        status="evaluating",
    ),
    StepType(
        "selection_decided",
        s.SelectionDecidedData,
        "The supplier was selected (rozhodnutí o výběru dodavatele).",
        ocds_tag="award",
        ocds_document_type="awardNotice",
        status="awarded",
    ),
    StepType(
        "objection_filed",
        s.ObjectionFiledData,
        "A supplier filed objections (námitky).",
        ocds_tag="tenderUpdate",
        ocds_document_type="complaints",
        repeatable=True,
        after_cancelled=True,
    ),
    StepType(
        "objection_decided",
        s.ObjectionDecidedData,
        "The buyer decided on objections.",
        ocds_tag="tenderUpdate",
        ocds_document_type="complaints",
        repeatable=True,
        after_cancelled=True,
    ),
    StepType(
        "contract_signed",
        s.ContractSignedData,
        "The contract (or an order, objednávka) was concluded.",
        ocds_tag="contract",
        ocds_document_type="contractSigned",
        status="contracted",
    ),
    StepType(
        "contract_published",
        s.ContractPublishedData,
        "The contract was published on the buyer profile or in the contract register.",
        ocds_tag="contract",
        ocds_document_type="contractSigned",
        repeatable=True,
        after_completed=True,
    ),
    StepType(
        "result_notice_published",
        s.ResultNoticePublishedData,
        "The notice of the result (oznámení o výsledku zadávacího řízení) was published.",
        ocds_tag="awardUpdate",
        ocds_document_type="awardNotice",
        after_completed=True,
        after_cancelled=True,
    ),
    StepType(
        "contract_amended",
        s.ContractAmendedData,
        "The contract was changed (dodatek), with the change of its value.",
        ocds_tag="contractAmendment",
        ocds_document_type="contractAnnexe",
        repeatable=True,
        after_completed=True,
    ),
    StepType(
        "payment_made",
        s.PaymentMadeData,
        "A payment to the supplier.",
        ocds_tag="implementation",
        ocds_document_type="financialProgressReport",
        repeatable=True,
        after_completed=True,
    ),
    StepType(
        "price_paid_published",
        s.PricePaidPublishedData,
        "The price actually paid was published on the buyer profile.",
        ocds_tag="implementation",
        ocds_document_type="financialProgressReport",
        repeatable=True,
        after_completed=True,
    ),
    StepType(
        "report_published",
        s.ReportPublishedData,
        "The written report (písemná zpráva zadavatele) was published.",
        ocds_tag="tenderUpdate",
        ocds_document_type="evaluationReports",
        after_completed=True,
        after_cancelled=True,
    ),
    StepType(
        "completed",
        s.CompletedData,
        "The contract was performed (splnění smlouvy); the trail ends.",
        ocds_tag="contractTermination",
        ocds_document_type="completionCertificate",
        status="completed",
        terminal=True,
    ),
    StepType(
        "cancelled",
        s.CancelledData,
        "The procedure was cancelled (zrušení zadávacího řízení); the trail ends.",
        ocds_tag="tenderCancellation",
        ocds_document_type="cancellationDetails",
        status="cancelled",
        terminal=True,
    ),
    StepType(
        "correction",
        s.CorrectionData,
        "Corrects the data of an earlier step (steps are never changed).",
        ocds_tag="tenderUpdate",  # a correction re-states its step under that step's tag
        ocds_document_type="clarifications",
        repeatable=True,
        after_completed=True,
        after_cancelled=True,
    ),
)

STEP_TYPES: dict[str, StepType] = {t.name: t for t in _TYPES}
TERMINAL_TYPES = frozenset(t.name for t in _TYPES if t.terminal)
AFTER_COMPLETED: tuple[str, ...] = tuple(t.name for t in _TYPES if t.after_completed)
AFTER_CANCELLED: tuple[str, ...] = tuple(t.name for t in _TYPES if t.after_cancelled)


def step_type(name: str) -> StepType:
    return STEP_TYPES[name]


def derive_status(types: set[str]) -> Status:
    """planned → tendering → evaluating → awarded → contracted → completed (or cancelled)."""
    reached = [STEP_TYPES[t].status for t in types if t in STEP_TYPES and STEP_TYPES[t].status]
    if not reached:
        return "planned"
    return max(reached, key=lambda status: STATUS_ORDER.index(status))  # type: ignore[arg-type]


# --- the request models, built from the table -------------------------------------------


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _later_than_occurred(member: str) -> Any:
    def check(step: Any) -> Any:
        moment: datetime | None = getattr(step.data, member, None)
        if moment is not None and moment <= step.occurred_at:
            raise ValueError(f"data.{member} must lie after occurred_at")
        return step

    return model_validator(mode="after")(check)


def _step_model(entry: StepType) -> type[s.StepBase]:
    # A type whose data has no required member may be posted without ``data``.
    data_model: Any = entry.data
    optional = all(not f.is_required() for f in data_model.model_fields.values())
    data_field: Any = (
        (data_model, Field(default_factory=data_model)) if optional else (data_model, ...)
    )
    validators = (
        {"_later_than_occurred": _later_than_occurred(entry.later_than_occurred)}
        if entry.later_than_occurred
        else None
    )
    tag: Any = Literal[entry.name]
    model: type[s.StepBase] = create_model(
        f"{_camel(entry.name)}Step",
        __base__=s.StepBase,
        __module__=__name__,
        __validators__=validators,
        type=(tag, ...),
        data=data_field,
    )
    return model


STEP_MODELS: dict[str, type[s.StepBase]] = {t.name: _step_model(t) for t in _TYPES}

if TYPE_CHECKING:
    StepCreate = s.StepBase
else:
    # The body of POST /steps: one model per step type, told apart by ``type``.
    StepCreate = Annotated[Union[tuple(STEP_MODELS.values())], Field(discriminator="type")]  # noqa: UP007
