"""From one part of a buyer profile to a plan: the procurement to open and the steps the
export proves, each with the element it comes from. Pure functions: no database.

What the export states is recorded; what it does not state is never made up:

* a step is recorded only when the export gives a moment for it: publication
  (``datum_uverejneni``), a document's ``cas_vlozeni_na_profil``, the contract's
  ``datum_uzavreni_smlouvy``, the cancellation's ``datum_zruseni_rizeni``. The bids are dated
  at the end of the bid period (``lhuta``), when they are opened; a year's payment
  (``plneni``) on the last day of that year, once it is over. ``imported_from.dated_by``
  names the element each moment comes from;
* a fact the export states without such a moment (a selection with no decision document,
  performance ended with no date) is listed as *not recorded*, with the reason;
* the buyer profile has no estimated value: the procurement's value is the contract value
  (the largest, when several suppliers), else the highest bid; its description says which.
  A part with neither is skipped: its regime cannot be derived;
* the 2016 structure states no subject (supplies, services, works): such parts are
  imported only when the importer names it (``subject_when_unstated``), and skipped
  otherwise;
* an unknown value (a procedure kind, state, subject or document type no table in
  ``vocabulary`` knows, a date or amount that does not read) is reported, never guessed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from stdnum.cz import dic

from procurement import law
from procurement.calendar import PRAGUE
from procurement.imports import vocabulary as words
from procurement.imports.parser import BuyerProfile, Document, Fact, Part, Participant, Supplier
from procurement.rules import procedure
from procurement.schemas import ExternalIds, ProcurementCreate, StepBase
from procurement.steptypes import STEP_MODELS

# What the export does not state, said as such in members the step models require.
EXCLUSION_REASON_NOT_STATED = "excluded; the buyer profile export states no reason"
CANCELLATION_REASON = "cancelled, as the buyer profile export states; it gives no reason"
LEGAL_BASIS_NOT_STATED = "not stated in the buyer profile export"

# Two-stage procedures: the notice's deadline is the one for requests to participate.
_TWO_STAGE = {
    "restricted",
    "negotiated_with_publication",
    "competitive_dialogue",
    "innovation_partnership",
}
# Ties on the same moment are recorded in the order a procedure runs.
_RANK = {
    "notice_published": 0,
    "tender_documents_published": 1,
    "clarification_published": 2,
    "bids_opened": 3,
    "evaluation_completed": 4,
    "selection_decided": 5,
    "contract_signed": 6,
    "contract_published": 7,
    "report_published": 8,
    "payment_made": 9,
    "cancelled": 10,
}
_CPV = re.compile(r"^[0-9]{8}-[0-9]$")
_CZECH_DATE = re.compile(
    r"^(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
# Documents of a whole divided 2016 zakazka that belong to every part (the tender's).
_TENDER_WIDE = {"call", "tender_documents", "clarification", "report"}


@dataclass(frozen=True)
class UnknownValue:
    path: str
    element: str
    value: str
    effect: str


@dataclass(frozen=True)
class NotRecorded:
    path: str
    fact: str
    reason: str


@dataclass(frozen=True)
class PlannedStep:
    """A step the export proves: its identity in the procurement (``key``), the validated
    step, the export's documents, and where it comes from."""

    type: str
    key: str
    path: str
    dated_by: str
    model: StepBase
    documents: tuple[dict[str, Any], ...]

    @property
    def occurred_at(self) -> datetime:
        return self.model.occurred_at

    def facts(self) -> dict[str, Any]:
        """What the step states, as its entry stores it (compared on a later import)."""
        return {
            "occurred_at": rfc3339(self.model.occurred_at),
            "data": self.model.data.model_dump(mode="json", by_alias=True),  # type: ignore[attr-defined]
            "documents": list(self.documents),
        }


@dataclass(frozen=True)
class PartPlan:
    part: Part
    key: tuple[str, str, str]
    label: str
    title: str
    create: ProcurementCreate | None
    skipped: str | None
    steps: tuple[PlannedStep, ...]
    unknown: tuple[UnknownValue, ...]
    not_recorded: tuple[NotRecorded, ...]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _element(path: str) -> str:
    return re.sub(r"\[\d+\]$", "", path.rsplit("/", 1)[-1])


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0]


@dataclass
class _Planner:
    profile: BuyerProfile
    part: Part
    today: date
    unknown: list[UnknownValue] = field(default_factory=list)
    not_recorded: list[NotRecorded] = field(default_factory=list)
    steps: list[PlannedStep] = field(default_factory=list)

    # --- reading values -------------------------------------------------------------------

    def report(self, fact: Fact, effect: str) -> None:
        self.unknown.append(UnknownValue(fact.path, _element(fact.path), fact.value, effect))

    def skip(self, path: str, fact: str, reason: str) -> None:
        self.not_recorded.append(NotRecorded(path, fact, reason))

    def moment(self, fact: Fact | None, effect: str) -> datetime | None:
        """A moment: ISO 8601 (a date alone is midnight in Prague, a time without zone is
        Prague time) or the Czech D.M.YYYY [H:MM[:SS]]."""
        if fact is None:
            return None
        found = read_moment(fact.value)
        if found is None:
            self.report(fact, effect)
        return found

    def money(self, fact: Fact | None, effect: str) -> Decimal | None:
        if fact is None:
            return None
        found = read_money(fact.value)
        if found is None:
            self.report(fact, effect)
        return found

    def ico(self, fact: Fact | None, effect: str) -> str | None:
        if fact is None:
            return None
        found = read_ico(fact.value)
        if found is None:
            self.report(fact, effect)
        return found

    def flag(self, fact: Fact | None) -> bool | None:
        if fact is None:
            return None
        found = words.flag(fact.value)
        if found is None:
            self.report(fact, "read as not stated")
        return found

    # --- steps ----------------------------------------------------------------------------

    def add(
        self,
        step_type: str,
        key: str,
        *,
        path: str,
        dated_by: str,
        occurred_at: datetime,
        data: dict[str, Any],
        documents: Iterable[dict[str, Any]] = (),
    ) -> bool:
        """Validate and plan a step; a value the step model refuses is reported."""
        body = {"type": step_type, "occurred_at": occurred_at, "data": data}
        try:
            model = STEP_MODELS[step_type].model_validate(body)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            self.skip(path, step_type, f"the export's values do not fit: {where}: {first['msg']}")
            return False
        self.steps.append(PlannedStep(step_type, key, path, dated_by, model, tuple(documents)))
        return True


# --- values --------------------------------------------------------------------------------


def read_moment(text: str) -> datetime | None:
    value = text.strip()
    czech = _CZECH_DATE.match(value)
    if czech:
        day, month, year, hour, minute, second = czech.groups()
        try:
            local = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError:
            return None
        return local.replace(tzinfo=PRAGUE).astimezone(UTC)
    if len(value) >= 10 and value[10:11] in ("", "+", "-", "Z") and len(value) <= 16:
        # xs:date, possibly with a zone (2024-03-05+01:00): the day in Prague.
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return None
        return datetime.combine(day, time(), PRAGUE).astimezone(UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PRAGUE)
    return moment.astimezone(UTC)


def read_money(text: str) -> Decimal | None:
    """An amount in CZK: spaces (also non-breaking) as thousands separators, a decimal comma
    or point, at most two decimal places, not negative."""
    value = re.sub(r"[\s\u00a0\u202f]", "", text)
    if value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    if not re.fullmatch(r"[0-9]{1,14}(\.[0-9]{1,2})?", value):
        return None
    try:
        return Decimal(value).quantize(Decimal("0.01"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


@lru_cache(maxsize=4096)  # an export names the same firms again and again
def read_ico(text: str) -> str | None:
    """An IČO with its mod-11 check digit; leading zeros some exports drop are restored."""
    value = text.strip().replace(" ", "")
    if not value.isdigit() or not 1 <= len(value) <= 8:
        return None
    value = value.zfill(8)
    return value if dic.is_valid(value) else None


def _local_day(moment: datetime) -> date:
    return moment.astimezone(PRAGUE).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), PRAGUE).astimezone(UTC)


# --- the plan ------------------------------------------------------------------------------


def plan_part(
    profile: BuyerProfile,
    part: Part,
    *,
    buyer_code: str,
    today: date,
    subject_when_unstated: str | None = None,
) -> PartPlan:
    """The procurement and steps one part of the export proves (or why it is skipped)."""
    planner = _Planner(profile, part, today)
    key = (
        profile.profile_code.value if profile.profile_code else "",
        part.procurement_id.value,
        part.part_id.value if part.part_id else "",
    )
    label = part.procurement_id.value + (f" / {part.part_id.value}" if part.part_id else "")
    title = _title(part)
    for path, what in part.unattributed:
        planner.skip(path, what, "the part it belongs to is not stated")
    for path in part.further_procedures:
        planner.skip(path, "a further procedure of the part", "one procedure per part is imported")
    skipped, create = _procurement(planner, buyer_code, title, subject_when_unstated)
    if create is not None:
        _steps(planner, create.procedure)
    planner.steps.sort(key=lambda s: (s.occurred_at, _RANK[s.type], s.key))
    return PartPlan(
        part=part,
        key=key,
        label=label,
        title=title,
        create=create,
        skipped=skipped,
        steps=tuple(planner.steps) if create is not None else (),
        unknown=tuple(planner.unknown),
        not_recorded=tuple(planner.not_recorded),
    )


def _title(part: Part) -> str:
    whole = part.title.value if part.title else ""
    own = part.part_title.value if part.part_title else ""
    if own and words.normalise(own) != words.normalise(whole):
        title = f"{whole}: {own}" if whole else own
    else:
        title = whole or own or part.procurement_id.value
    return title if len(title) <= 300 else title[:299] + "…"


def _all_moments(planner: _Planner) -> list[datetime]:
    part = planner.part
    facts: list[Fact | None] = [part.published_at, part.contract_signed_on, part.cancelled_on]
    facts += [d.inserted_at for d in part.documents]
    facts += [d.contract.signed_on for d in part.documents if d.contract is not None]
    found = []
    for fact in facts:
        if fact is not None and (moment := read_moment(fact.value)) is not None:
            found.append(moment)
    return found


def _value(planner: _Planner) -> tuple[Decimal, str] | None:
    part = planner.part
    contracts = [s.contract_value_excl_vat for s in part.suppliers]
    contracts += [d.contract.value_excl_vat for d in part.documents if d.contract is not None]
    values = [v for f in contracts if f and (v := read_money(f.value)) is not None]
    if values:
        many = " (the largest of its contracts)" if len(values) > 1 else ""
        return max(values), f"the contract value the export states{many}"
    bids = [read_money(p.price_excl_vat.value) for p in part.participants if p.price_excl_vat]
    known = [b for b in bids if b is not None]
    if known:
        return max(known), "the highest bid the export states (it gives no contract value)"
    return None


def _procurement(
    planner: _Planner, buyer_code: str, title: str, subject_when_unstated: str | None
) -> tuple[str | None, ProcurementCreate | None]:
    """The procurement to open, or why the part is skipped."""
    part, profile = planner.part, planner.profile
    # Values read for the record even when the part is skipped, so every unknown is reported.
    if part.state is not None and words.state_for(part.state.value) is None:
        planner.report(part.state, "imported without its state")
    procedure_id = None
    why: str | None = None
    if part.procedure_kind is None:
        why = "the export states no procedure kind"
    else:
        procedure_id = words.procedure_for(part.procedure_kind.value)
        if procedure_id is None:
            reason = words.UNSUPPORTED_PROCEDURE_KINDS.get(
                words.normalise(part.procedure_kind.value)
            )
            kind = part.procedure_kind.value
            planner.report(
                part.procedure_kind, f"part skipped: {reason or 'unknown procedure kind'}"
            )
            why = (
                f"procedure kind '{kind}': {reason}"
                if reason
                else f"procedure kind '{kind}' is unknown"
            )
    subject = None
    if part.subject_kind is not None:
        subject = words.subject_for(part.subject_kind.value)
        if subject is None:
            planner.report(part.subject_kind, "part skipped: unknown subject")
            why = why or f"subject '{part.subject_kind.value}' is unknown"
    elif subject_when_unstated is not None:
        subject = subject_when_unstated
    else:
        why = why or (
            "the export states no subject (supplies, services or works; the 2016 structure "
            "never does): name it for such parts (CLI --subject, API subject=)"
        )
    cpv: list[str] = []
    if part.cpv is not None:
        if _CPV.match(part.cpv.value.strip()):
            cpv = [part.cpv.value.strip()]
        else:
            planner.report(part.cpv, "imported without its CPV code (not NNNNNNNN-N)")
    moments = _all_moments(planner)
    value = _value(planner)
    if why is None and not moments:
        why = "the export gives no date for it"
    if why is None and value is None:
        why = (
            "the export states no value (no contract value and no bid price), so its regime "
            "cannot be derived"
        )
    if why is None:
        started_on = _local_day(min(moments))
        if started_on < law.ZZVZ_FROM:
            why = (
                f"it began on {started_on}, before 1 October 2016: it falls under the "
                "repealed zákon č. 137/2006 Sb., whose procedures the trail does not model"
            )
        elif started_on > planner.today:
            why = f"its earliest date {started_on} lies in the future"
    if why is not None:
        return why, None
    assert procedure_id is not None
    assert subject is not None
    assert value is not None
    amount, basis = value
    description = (part.description.value if part.description else "").strip()
    code = profile.profile_code.value if profile.profile_code else "(no profil_kod)"
    provenance = (
        f"Imported from the buyer profile {code} ({part.path}). The export states no "
        f"estimated value: estimated_value_excl_vat is {basis}."
    )
    description = f"{description}\n\n{provenance}" if description else provenance
    external = ExternalIds(
        buyer_profile_code=profile.profile_code.value[:100] if profile.profile_code else None,
        buyer_profile_procurement_id=part.procurement_id.value[:100],
        buyer_profile_part_id=part.part_id.value[:100] if part.part_id else None,
        vvz=part.vvz_id.value[:100] if part.vvz_id else None,
    )
    try:
        create = ProcurementCreate(
            buyer_code=buyer_code,
            title=title,
            description=description[:20_000],
            subject=subject,  # type: ignore[arg-type]
            procedure=procedure_id,  # type: ignore[arg-type]
            estimated_value_excl_vat=amount,
            cpv=cpv,
            external_ids=external,
            started_on=_local_day(min(moments)),
        )
    except ValidationError as error:
        first = error.errors()[0]
        return f"the export's values do not fit: {first['loc']}: {first['msg']}", None
    return None, create


def _steps(planner: _Planner, procedure_id: str) -> None:
    part = planner.part
    proc = procedure(procedure_id)
    notice_id = (part.part_id or part.procurement_id).value[:100]
    divided_2016 = part.structure == "2016" and part.part_id is not None

    # The export's documents by what they are, oldest first.
    documents: dict[str, list[tuple[datetime, Document, dict[str, Any]]]] = {}
    for document in part.documents:
        type_text = document.type.value if document.type else ""
        kind = words.document_kind(type_text, document.name.value if document.name else None)
        if kind is None:
            if document.type is not None:
                planner.report(document.type, "document not recorded (unknown type)")
            else:
                planner.skip(document.path, "a document", "it states no type")
            continue
        if divided_2016 and kind not in _TENDER_WIDE:
            planner.skip(
                document.path,
                f"a document ({kind})",
                "it is listed for the whole divided zakazka; the part it belongs to is not stated",
            )
            continue
        moment = planner.moment(document.inserted_at, "document not recorded (unreadable time)")
        if moment is None:
            if document.inserted_at is None:
                planner.skip(document.path, f"a document ({kind})", "it states no time")
            continue
        url = document.url.value if document.url else None
        if url is None:
            planner.skip(document.path, f"a document ({kind})", "it states no URL")
            continue
        if not is_http_url(url):
            assert document.url is not None
            planner.report(document.url, "document not recorded (not an http(s) URL)")
            continue
        record = _document_record(document, moment)
        documents.setdefault(kind, []).append((moment, document, record))
    for found in documents.values():
        found.sort(key=lambda item: item[0])

    def has(step_type: str) -> bool:
        return proc.step(step_type) is not None

    _notice(planner, proc.id, has("notice_published"), documents, notice_id)
    _tender_documents(planner, has, documents)
    _bids_and_evaluation(planner, has, documents)
    _selection_and_contract(planner, has, documents, notice_id)
    for moment, document, record in documents.get("report", [])[:1]:
        if has("report_published"):
            planner.add(
                "report_published",
                f"document:{record['url']}",
                path=document.path,
                dated_by=_dated_by(document),
                occurred_at=moment,
                data={"url": record["url"]},
                documents=[record],
            )
    for _moment, document, _record in documents.get("report", [])[1:]:
        planner.skip(document.path, "a further written report", "report_published does not repeat")
    for _moment, document, _record in documents.get("amendment", []):
        planner.skip(
            document.path,
            "a contract amendment (dodatek)",
            "contract_amended needs the change of value, which the export does not state",
        )
    for _moment, document, _record in documents.get("price_paid", []):
        planner.skip(
            document.path,
            "the price actually paid (document)",
            "price_paid_published needs the amount, which the export does not state with it",
        )
    for _moment, document, _record in documents.get("other", []):
        planner.skip(document.path, "a document", "its type fits no step of the trail")
    _cancellation(planner, has, documents)
    _payments(planner, has)
    state = words.state_for(part.state.value) if part.state else None
    if state == "performed":
        assert part.state is not None
        planner.skip(
            part.state.path,
            "completed (performance ended)",
            "the export says the contract was performed but not when",
        )


def _document_record(document: Document, moment: datetime) -> dict[str, Any]:
    """A document as the export lists it: url, type, time (it states no hash or size)."""
    type_text = plain_text(document.type.value) if document.type else ""
    title = plain_text(document.name.value) if document.name else type_text
    record: dict[str, Any] = {
        "title": (title or "document")[:300],
        "url": document.url.value if document.url else None,
        "document_type": type_text[:300],
        "published_at": rfc3339(moment),
    }
    if document.version is not None:
        record["version"] = plain_text(document.version.value)[:20]
    return record


def plain_text(text: str) -> str:
    """One line of text: control and format characters (line breaks, bidi overrides) are
    dropped, runs of white space kept as one space."""
    kept = "".join(" " if c.isspace() else c for c in text if not _invisible(c))
    return " ".join(kept.split())


def _invisible(character: str) -> bool:
    return not character.isspace() and unicodedata.category(character).startswith("C")


def is_http_url(url: str) -> bool:
    """An http(s) URL with a host, without spaces or control characters (as step data
    requires of a URL)."""
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and len(url) <= 2000
        and not any(c.isspace() or ord(c) < 32 for c in url)
    )


def _dated_by(document: Document) -> str:
    return document.inserted_at.path if document.inserted_at else document.path


def _notice(
    planner: _Planner,
    procedure_id: str,
    allowed: bool,
    documents: dict[str, list[tuple[datetime, Document, dict[str, Any]]]],
    notice_id: str,
) -> bool:
    """notice_published: the publication on the profile with its deadline for bids (or for
    requests to participate) and the URL of the call. True when it took the call document."""
    part = planner.part
    published = planner.moment(part.published_at, "publication not recorded (unreadable date)")
    if published is None or part.published_at is None:
        return False
    if not allowed:
        planner.skip(
            part.published_at.path,
            "publication on the profile",
            f"the procedure '{procedure_id}' has no notice_published step",
        )
        return False
    wanted = "requests_to_participate" if procedure_id in _TWO_STAGE else "bids"
    deadline = _period_end(planner, wanted)
    if deadline is None:
        planner.skip(
            part.published_at.path,
            "publication on the profile",
            "the export states no deadline for bids (lhuta) to record with it",
        )
        return False
    ends_at = deadline[0]
    calls = [c for c in documents.get("call", []) if c[0] <= ends_at]
    source = calls[:1] or [c for c in documents.get("tender_documents", []) if c[0] <= ends_at][:1]
    if not source:
        planner.skip(
            part.published_at.path,
            "publication on the profile",
            "no document of the call (výzva, oznámení) or tender documents gives its URL",
        )
        return False
    _moment, document, record = source[0]
    took_call = bool(calls)
    planner.add(
        "notice_published",
        "notice_published",
        path=part.published_at.path,
        dated_by=part.published_at.path,
        occurred_at=published,
        data={
            "channel": "profile",
            "notice_id": notice_id,
            "url": record["url"],
            "bid_deadline": ends_at,
        },
        documents=[record] if took_call else [],
    )
    if took_call:
        documents["call"] = [c for c in documents["call"] if c[1] is not document]
    return took_call


def _period_end(planner: _Planner, wanted: str) -> tuple[datetime, str] | None:
    for period in planner.part.periods:
        if period.kind is None or words.deadline_kind(period.kind.value) != wanted:
            continue
        moment = planner.moment(period.ends_at, "deadline not used (unreadable date)")
        if moment is not None and period.ends_at is not None:
            return moment, period.ends_at.path
    return None


def _tender_documents(
    planner: _Planner,
    has: Any,
    documents: dict[str, list[tuple[datetime, Document, dict[str, Any]]]],
) -> None:
    """The first tender documents (or call) as tender_documents_published; later versions
    and clarifications as clarification_published, each with its own document."""
    first = documents.get("tender_documents", []) or documents.get("call", [])
    rest = documents.get("tender_documents", []) + documents.get("call", [])
    if first and has("tender_documents_published"):
        moment, document, record = first[0]
        planner.add(
            "tender_documents_published",
            "tender_documents_published",
            path=document.path,
            dated_by=_dated_by(document),
            occurred_at=moment,
            data={"url": record["url"]},
            documents=[record],
        )
        rest = [d for d in rest if d[1] is not document]
    rest += documents.get("clarification", [])
    for moment, document, record in sorted(rest, key=lambda item: item[0]):
        if not has("clarification_published"):
            planner.skip(document.path, "a document of the tender", "no step of the procedure fits")
            continue
        planner.add(
            "clarification_published",
            f"document:{record['url']}",
            path=document.path,
            dated_by=_dated_by(document),
            occurred_at=moment,
            data={"summary": record["title"][:5000], "url": record["url"]},
            documents=[record],
        )


def _bidders(planner: _Planner, participants: Iterable[Participant]) -> list[dict[str, Any]] | str:
    bids = []
    for participant in participants:
        ico = planner.ico(participant.subject.ico, "bids not recorded (not a valid IČO)")
        price = planner.money(participant.price_excl_vat, "bids not recorded (unreadable price)")
        name = plain_text(participant.subject.name.value) if participant.subject.name else None
        if ico is None or price is None or name is None:
            missing = "IČO" if ico is None else "price excl. VAT" if price is None else "name"
            return f"participant {participant.path} has no valid {missing}"
        bids.append({"ico": ico, "name": name[:300], "price_excl_vat": f"{price:.2f}"})
    return bids


def _bids_and_evaluation(
    planner: _Planner,
    has: Any,
    documents: dict[str, list[tuple[datetime, Document, dict[str, Any]]]],
) -> None:
    part = planner.part
    if not part.participants:
        return
    where = _parent(part.participants[0].path)
    count = len(part.participants)
    bids = _bidders(planner, part.participants)
    deadline = _period_end(planner, "bids") or _period_end(planner, "preliminary_bids")
    if isinstance(bids, str):
        planner.skip(where, f"the bids of {count} participants", bids)
    elif deadline is None:
        planner.skip(
            where,
            f"the bids of {count} participants",
            "the export states no bid deadline, the moment the bids were opened",
        )
    else:
        planner.add(
            "bids_opened",
            "bids_opened",
            path=where,
            dated_by=deadline[1],
            occurred_at=deadline[0],
            data={"bids": bids},
        )
    excluded = [p for p in part.participants if planner.flag(p.excluded)]
    if not excluded:
        return
    exclusions = []
    for participant in excluded:
        ico = read_ico(participant.subject.ico.value) if participant.subject.ico else None
        if ico is None:
            planner.skip(participant.path, "an exclusion", "the participant has no valid IČO")
            return
        reason = participant.exclusion_reason.value if participant.exclusion_reason else None
        exclusions.append({"ico": ico, "reason": (reason or EXCLUSION_REASON_NOT_STATED)[:2000]})
    evaluations = documents.get("evaluation", [])
    if not evaluations:
        planner.skip(
            excluded[0].path,
            f"the exclusion of {len(exclusions)} participants",
            "no evaluation document (zpráva o hodnocení, rozhodnutí o vyloučení) dates it",
        )
        return
    moment, document, _record = evaluations[0]
    if has("evaluation_completed"):
        planner.add(
            "evaluation_completed",
            "evaluation_completed",
            path=where,
            dated_by=_dated_by(document),
            occurred_at=moment,
            data={"excluded": exclusions},
            documents=[record for _m, _d, record in evaluations],
        )


def _selection_and_contract(
    planner: _Planner,
    has: Any,
    documents: dict[str, list[tuple[datetime, Document, dict[str, Any]]]],
    notice_id: str,
) -> None:
    part, profile = planner.part, planner.profile
    buyer_ico = read_ico(profile.buyer_ico.value) if profile.buyer_ico else None
    contracts = documents.get("contract", [])
    metadata = [d.contract for _m, d, _r in contracts if d.contract is not None]
    supplier: Supplier | None = None
    if len(part.suppliers) > 1:
        planner.skip(
            _parent(part.suppliers[0].subject.path),
            f"{len(part.suppliers)} selected suppliers",
            "the trail records one selection and one contract per procurement",
        )
    elif part.suppliers:
        supplier = part.suppliers[0]
    # Who and for how much: the selected supplier, else the contract's other party.
    ico = name = None
    value = None
    if supplier is not None:
        ico = planner.ico(supplier.subject.ico, "selection and contract not recorded")
        name = plain_text(supplier.subject.name.value) if supplier.subject.name else None
        value = planner.money(supplier.contract_value_excl_vat, "contract not recorded")
    for meta in metadata:
        if value is None:
            value = planner.money(meta.value_excl_vat, "contract not recorded")
        if supplier is None and ico is None:
            for party in meta.parties:
                party_ico = read_ico(party.ico.value) if party.ico else None
                if party_ico is not None and party_ico != buyer_ico:
                    ico, name = party_ico, plain_text(party.name.value) if party.name else None
                    break
    selections = documents.get("selection", [])
    if supplier is not None and ico is not None and name is not None:
        bid = next(
            (
                read_money(p.price_excl_vat.value)
                for p in part.participants
                if p.subject.ico and read_ico(p.subject.ico.value) == ico and p.price_excl_vat
            ),
            None,
        )
        price = bid if bid is not None else value
        if not selections:
            planner.skip(
                supplier.subject.path,
                "the selection of the supplier",
                "no decision on the selection (oznámení/rozhodnutí o výběru) dates it",
            )
        elif price is None:
            planner.skip(supplier.subject.path, "the selection of the supplier", "no price")
        elif has("selection_decided"):
            moment, document, _record = selections[0]
            planner.add(
                "selection_decided",
                "selection_decided",
                path=supplier.subject.path,
                dated_by=_dated_by(document),
                occurred_at=moment,
                data={"winner_ico": ico, "winner_name": name[:300], "price_excl_vat": price},
                documents=[record for _m, _d, record in selections],
            )
    # The contract: its date, value and supplier.
    concluded = planner.flag(supplier.contract_concluded) if supplier else None
    signed_fact = part.contract_signed_on or next(
        (m.signed_on for m in metadata if m.signed_on is not None), None
    )
    if concluded is False:
        pass  # the export says no contract was concluded
    elif signed_fact is not None:
        signed = planner.moment(signed_fact, "contract not recorded (unreadable date)")
        missing = (
            "its supplier's IČO"
            if ico is None
            else "its supplier's name"
            if name is None
            else "its value excl. VAT"
            if value is None
            else None
        )
        if signed is None:
            pass
        elif missing is not None:
            planner.skip(signed_fact.path, "the contract", f"the export states no valid {missing}")
        else:
            assert ico is not None
            assert name is not None
            assert value is not None
            form = "contract"
            if supplier is not None and supplier.contract_concluded is not None:
                if "objednavk" in words.normalise(supplier.contract_concluded.value):
                    form = "order"
            planner.add(
                "contract_signed",
                "contract_signed",
                path=supplier.subject.path if supplier else signed_fact.path,
                dated_by=signed_fact.path,
                occurred_at=signed,
                data={
                    "supplier_ico": ico,
                    "supplier_name": name[:300],
                    "value_excl_vat": value,
                    "signed_on": _local_day(signed),
                    "form": form,
                },
            )
    elif supplier is not None:
        state = words.state_for(part.state.value) if part.state else None
        if state in ("awarded", "performed"):
            planner.skip(supplier.subject.path, "the contract", "the export gives no date for it")
    for moment, document, record in contracts:
        if has("contract_published"):
            planner.add(
                "contract_published",
                f"document:{record['url']}",
                path=document.path,
                dated_by=_dated_by(document),
                occurred_at=moment,
                data={"register": "profile", "id": notice_id, "url": record["url"]},
                documents=[record],
            )


def _cancellation(
    planner: _Planner,
    has: Any,
    documents: dict[str, list[tuple[datetime, Document, dict[str, Any]]]],
) -> None:
    part = planner.part
    notices = documents.get("cancellation", [])
    state = words.state_for(part.state.value) if part.state else None
    cancelled = planner.moment(part.cancelled_on, "cancellation not recorded (unreadable date)")
    if cancelled is None:
        if state == "cancelled" and part.cancelled_on is None:
            assert part.state is not None
            planner.skip(part.state.path, "the cancellation", "the export gives no date for it")
        return
    assert part.cancelled_on is not None
    if has("cancelled"):
        planner.add(
            "cancelled",
            "cancelled",
            path=part.cancelled_on.path,
            dated_by=part.cancelled_on.path,
            occurred_at=cancelled,
            data={"reason": CANCELLATION_REASON, "legal_basis": LEGAL_BASIS_NOT_STATED},
            documents=[record for _m, _d, record in notices],
        )


def _payments(planner: _Planner, has: Any) -> None:
    """Each year's price actually paid, dated the last day of that year once it is over."""
    seen: dict[str, int] = {}
    for supplier in planner.part.suppliers:
        who = (read_ico(supplier.subject.ico.value) if supplier.subject.ico else None) or (
            supplier.subject.path
        )
        for payment in supplier.payments:
            if payment.year is None:
                planner.skip(payment.path, "a yearly payment", "it states no year")
                continue
            year = int(payment.year.value) if payment.year.value.strip().isdigit() else None
            if year is None or not 1990 <= year <= 2100:
                planner.report(payment.year, "payment not recorded (not a calendar year)")
                continue
            amount = planner.money(payment.amount_excl_vat, "payment not recorded")
            if amount is None:
                if payment.amount_excl_vat is None:
                    planner.skip(payment.path, "a yearly payment", "no amount excl. VAT")
                continue
            if amount == 0:
                continue  # nothing was paid that year
            last_day = date(year, 12, 31)
            if last_day >= planner.today:
                planner.skip(payment.path, "a yearly payment", f"the year {year} is not over")
                continue
            if not has("payment_made"):
                continue
            key = f"payment_made:{who}:{year}"
            seen[key] = seen.get(key, 0) + 1
            if seen[key] > 1:
                key = f"{key}#{seen[key]}"
            planner.add(
                "payment_made",
                key,
                path=payment.path,
                dated_by=payment.year.path,
                occurred_at=_midnight(last_day),
                data={"amount_excl_vat": amount, "paid_on": last_day},
            )
