"""OCDS 1.1 mapping: a procurement and its ledger entries -> release and record packages.

Pure functions over plain data (the procurement header and the entry documents of the
contract in ``procurement.ledger``); no database, no HTTP. The README ("OCDS 1.1") has the
field-by-field mapping; the choices that need a reason are noted where they are made.

* Release 0 (``<ocid>-0``, tag ``planning``) describes the procurement as it was opened
  (buyer, title, subject, estimated value, CPV codes, where it is published elsewhere, the
  legal ground of its procedure), so a procurement with no steps still has a valid release
  package. Then one release per step, ``<ocid>-<seq>``, dated with the step's
  ``recorded_at`` (when it entered the public log); dates inside the release are the step's
  ``occurred_at`` or its typed data.
* Release dates are compared as moments and written in one fixed form (UTC, microseconds,
  "Z"), so that the tools that order releases by comparing their ``date`` strings
  (``ocdsmerge``) order them as time does.
* Every release names, in ``parties``, every party it refers to (buyer, procuring entity,
  tenderers, suppliers, payer, payee) with its roles so far, so any subset of the releases
  (a date window of the bulk steps export) compiles to a record whose references resolve.
* A release depends only on its step and the steps before it, never on later steps, so a
  mirror that reads the feed can build the same releases incrementally.
* Every amount is excluding VAT (the project records ``*_excl_vat``); OCDS 1.1 ``Value`` has
  no VAT flag, so the publication policy says so.
* Bids (invitations, bids, exclusions) use the OCDS bid extension (``bids.details``),
  declared in ``extensions``.
* Identifiers: suppliers ``CZ-ICO`` (IČO, Czech company register id, org-id.guide scheme);
  the buyer by its IČO too when the municipalities register gives it, otherwise by its
  6-digit municipality code (kód obce) under the project's own scheme ``CZ-KOD-OBCE``
  (org-id.guide lists no scheme for it), which a buyer with an IČO keeps as an additional
  identifier.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ocdsmerge import Merger

from procurement.steptypes import STEP_TYPES
from procurement.trail import correction_root, effective_steps

OCDS_VERSION = "1.1"
BUYER_SCHEME = "CZ-KOD-OBCE"
SUPPLIER_SCHEME = "CZ-ICO"
BID_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/"
    "v1.1.5/extension.json"
)

# Release tags (releaseTag codelist) and document types (documentType codelist) per step
# type: from the step-type registry, the one place a step type is defined.
STEP_TAGS: dict[str, str] = {
    name: t.ocds_tag for name, t in STEP_TYPES.items() if name != "correction"
}
DOCUMENT_TYPES: dict[str, str] = {
    name: t.ocds_document_type for name, t in STEP_TYPES.items() if name != "correction"
}
# A ``correction`` step re-states the corrected step under the "update" variant of its tag.
CORRECTION_TAGS: dict[str, str] = {
    "planning": "planningUpdate",
    "tender": "tenderUpdate",
    "tenderUpdate": "tenderUpdate",
    "tenderAmendment": "tenderAmendment",
    "tenderCancellation": "tenderCancellation",
    "award": "awardUpdate",
    "awardUpdate": "awardUpdate",
    "contract": "contractUpdate",
    "contractAmendment": "contractAmendment",
    "implementation": "implementationUpdate",
    "contractTermination": "contractTermination",
}

# procurementMethod (closed method codelist) per procedure id, with the Czech name.
# ZZVZ = zákon č. 134/2016 Sb., o zadávání veřejných zakázek.
PROCEDURES: dict[str, tuple[str, str]] = {
    "open": ("open", "otevřené řízení"),
    "restricted": ("selective", "užší řízení"),
    "negotiated_with_publication": ("selective", "jednací řízení s uveřejněním"),
    "negotiated_without_publication": ("limited", "jednací řízení bez uveřejnění"),
    "competitive_dialogue": ("selective", "řízení se soutěžním dialogem"),
    "innovation_partnership": ("selective", "řízení o inovačním partnerství"),
    # Zjednodušené podlimitní řízení (ZZVZ § 53): the call is published on the buyer
    # profile and any supplier may bid, so it is "open" in OCDS terms.
    "simplified_below_threshold": ("open", "zjednodušené podlimitní řízení"),
    # Koncesní řízení (ZZVZ § 174 ff.): the buyer publishes and negotiates with the
    # suppliers it admits, which OCDS calls "selective".
    "concession": ("selective", "koncesní řízení"),
    "design_contest": ("selective", "soutěž o návrh"),
    # Veřejná zakázka malého rozsahu (ZZVZ § 27, § 31): outside the statutory procedures;
    # usually the buyer invites suppliers it chooses ("limited"); when it publishes a call
    # anyone may answer, that call makes it "open" (see ``_method``).
    "small_scale": ("limited", "veřejná zakázka malého rozsahu"),
}

SUBJECT_CATEGORY: dict[str, str] = {"supplies": "goods", "services": "services", "works": "works"}

# Merge rules of the OCDS 1.1.5 release schema (what ``ocdsmerge.get_merge_rules`` derives
# from it; a test checks they agree), kept here so merging never loads a schema at run time.
MERGE_RULES: dict[tuple[str, ...], str] = {
    ("id",): "omitWhenMerged",
    ("date",): "omitWhenMerged",
    ("tag",): "omitWhenMerged",
    **dict.fromkeys(
        (
            ("parties", "additionalIdentifiers"),
            ("parties", "roles"),
            ("buyer", "additionalIdentifiers"),
            ("tender", "procuringEntity", "additionalIdentifiers"),
            ("tender", "items", "additionalClassifications"),
            ("tender", "additionalProcurementCategories"),
            ("tender", "submissionMethod"),
            ("tender", "tenderers", "additionalIdentifiers"),
            ("tender", "amendments", "changes"),
            ("tender", "amendment", "changes"),
            ("awards", "suppliers", "additionalIdentifiers"),
            ("awards", "items", "additionalClassifications"),
            ("awards", "amendments", "changes"),
            ("awards", "amendment", "changes"),
            ("contracts", "items", "additionalClassifications"),
            ("contracts", "implementation", "transactions", "payer", "additionalIdentifiers"),
            ("contracts", "implementation", "transactions", "payee", "additionalIdentifiers"),
            ("contracts", "relatedProcesses", "relationship"),
            ("contracts", "amendments", "changes"),
            ("contracts", "amendment", "changes"),
            ("relatedProcesses", "relationship"),
        ),
        "wholeListMerge",
    ),
}
_MERGER = Merger(merge_rules=MERGE_RULES)

_ROLE_ORDER = ("buyer", "procuringEntity", "tenderer", "supplier", "payer", "payee")

# The regime (režim veřejné zakázky, ZZVZ §§ 24-27), named in procurementMethodDetails.
REGIMES: dict[str, str] = {
    "small_scale": "veřejná zakázka malého rozsahu",
    "below_threshold": "podlimitní veřejná zakázka",
    "above_threshold": "nadlimitní veřejná zakázka",
}
CHANNELS: dict[str, str] = {
    "vvz": "Věstník veřejných zakázek",
    "ted": "Tenders Electronic Daily",
    "profile": "profil zadavatele",
}
# Where the procurement is known elsewhere (``external_ids``), as documents of release 0:
# each names the system and the procurement's id there (a URL where the id is one). Not
# ``relatedProcesses``: those are *other* contracting processes, and the closed
# ``relatedProcess`` codelist has no code for the same process in another system; OCDS 1.1
# has no ``tender.identifiers`` (that is 1.2). The document types are from the codelist:
# VVZ, TED, NEN and the buyer profile publish the call (``tenderNotice``: "a link to a
# downloadable document, to a web page, or to an official gazette"), the contract register
# the contract (``contractSigned``). An id of another system keeps its key as its title.
EXTERNAL_IDS: dict[str, tuple[str, str]] = {
    "buyer_profile": ("tenderNotice", "Profil zadavatele"),
    "vvz": ("tenderNotice", "Věstník veřejných zakázek"),
    "ted": ("tenderNotice", "Tenders Electronic Daily"),
    "nen": ("tenderNotice", "Národní elektronický nástroj"),
    "contract_register": ("contractSigned", "Registr smluv"),
}
CONTRACT_FORMS: dict[str, str] = {"contract": "Contract (smlouva)", "order": "Order (objednávka)"}


@dataclass(frozen=True)
class Publication:
    """What every package says about its publication (from the settings)."""

    publisher: str = "smartsteps"
    license: str | None = None
    publication_policy: str | None = None

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"publisher": {"name": self.publisher}}
        if self.license:
            meta["license"] = self.license
        if self.publication_policy:
            meta["publicationPolicy"] = self.publication_policy
        return meta


@dataclass(frozen=True)
class ProcurementHeader:
    """The columns of ``procurements`` (and of the buyer's municipality) that the mapping
    reads."""

    ocid: str
    buyer_code: str
    title: str
    subject: str
    procedure: str
    created_at: str
    description: str | None = None
    regime: str | None = None
    estimated_value_excl_vat: str | None = None
    currency: str = "CZK"
    cpv_codes: tuple[str, ...] = ()
    buyer_name: str | None = None
    started_on: date | None = None
    buyer_ico: str | None = None
    external_ids: tuple[tuple[str, str], ...] = ()
    legal_ground: str | None = None

    @classmethod
    def of(cls, source: Any) -> ProcurementHeader:
        """From a mapping or from any object with the column attributes (a table row)."""

        def get(name: str, default: Any = None) -> Any:
            if isinstance(source, Mapping):
                return source.get(name, default)
            return getattr(source, name, default)

        value = get("estimated_value_excl_vat")
        return cls(
            ocid=str(get("ocid")),
            buyer_code=str(get("buyer_code")),
            title=str(get("title") or ""),
            subject=str(get("subject") or ""),
            procedure=str(get("procedure") or ""),
            created_at=release_date(get("created_at")),
            description=get("description"),
            regime=get("regime"),
            estimated_value_excl_vat=None if value is None else money(value),
            currency=str(get("currency") or "CZK"),
            cpv_codes=tuple(get("cpv_codes") or ()),
            buyer_name=get("buyer_name"),
            started_on=_date_or_none(get("started_on")),
            buyer_ico=get("buyer_ico") or None,
            external_ids=tuple((str(k), str(v)) for k, v in (get("external_ids") or {}).items()),
            legal_ground=get("legal_ground") or None,
        )


def _date_or_none(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def money(value: Any) -> str:
    return f"{Decimal(str(value)):.2f}"


def amount(value: Any) -> int | float:
    """A money string as a JSON number (OCDS ``Value.amount`` is a number)."""
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def moment(value: Any) -> datetime:
    """A datetime (naive is UTC), a date (midnight UTC) or an RFC 3339 string, in UTC."""
    if value is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value)
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def release_date(value: Any) -> str:
    """A release's ``date``: always UTC with six decimals and "Z", so that comparing two as
    strings (as ``ocdsmerge`` orders releases) agrees with comparing them as moments."""
    return moment(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339(value: Any) -> str:
    """RFC 3339 UTC with "Z" from a datetime, a date (midnight UTC) or such a string."""
    if value is None:
        return "1970-01-01T00:00:00Z"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return str(value.replace(microsecond=0).isoformat()) + "Z"
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    text = str(value)
    if len(text) == 10:
        return f"{text}T00:00:00Z"
    if text.endswith("+00:00"):
        return text[:-6] + "Z"
    return text


def buyer_party_id(header: ProcurementHeader) -> str:
    """``CZ-ICO-<ičo>`` when the register gives the municipality's IČO (the same id the
    organization has wherever it appears), ``CZ-KOD-OBCE-<code>`` otherwise."""
    if header.buyer_ico:
        return supplier_party_id(header.buyer_ico)
    return f"{BUYER_SCHEME}-{header.buyer_code}"


def supplier_party_id(ico: str) -> str:
    return f"{SUPPLIER_SCHEME}-{ico}"


@dataclass
class _State:
    """What a release needs to know about the steps before it."""

    header: ProcurementHeader
    roles: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    public_call: bool = False
    tender_status: str = "planning"
    award_id: str | None = None
    contract_id: str | None = None
    contract_value: Decimal = Decimal(0)
    supplier: dict[str, str] | None = None
    bids: dict[str, str] = field(default_factory=dict)  # IČO -> bid status
    contracts: dict[str, str] = field(default_factory=dict)  # contract id -> award id
    entries_by_seq: dict[int, Mapping[str, Any]] = field(default_factory=dict)

    def party(self, party_id: str, name: str | None, role: str | None) -> None:
        self.roles.setdefault(party_id, set())
        if role:
            self.roles[party_id].add(role)
        if name:
            self.names[party_id] = name

    def ref(self, party_id: str) -> dict[str, str]:
        return {"id": party_id, "name": self.names.get(party_id) or party_id.rpartition("-")[2]}


def _buyer_ref(header: ProcurementHeader) -> dict[str, Any]:
    return {"id": buyer_party_id(header), "name": _buyer_name(header)}


def _buyer_name(header: ProcurementHeader) -> str:
    return header.buyer_name or f"Obec {header.buyer_code}"


def _party_object(state: _State, party_id: str) -> dict[str, Any]:
    scheme, _, ident = party_id.rpartition("-")
    header = state.header
    is_buyer = party_id == buyer_party_id(header)
    party: dict[str, Any] = {
        "id": party_id,
        "name": state.names.get(party_id) or (_buyer_name(header) if is_buyer else ident),
        "identifier": {"scheme": scheme, "id": ident},
    }
    # A name the trail or the register states, never the stand-in for an unnamed buyer.
    if party_id in state.names:
        party["identifier"]["legalName"] = state.names[party_id]
    if header.buyer_ico and is_buyer:
        party["additionalIdentifiers"] = [{"scheme": BUYER_SCHEME, "id": header.buyer_code}]
    # An invited supplier has no role until it bids: OCDS 1.1 has no role for an invitee
    # ("tenderer" is an entity that submitted a tender), and an empty list says nothing.
    if state.roles[party_id]:
        party["roles"] = sorted(state.roles[party_id], key=_ROLE_ORDER.index)
    return party


def _method(state: _State) -> tuple[str, str]:
    header = state.header
    method, details = PROCEDURES.get(header.procedure, ("open", header.procedure))
    if header.procedure == "small_scale" and state.public_call:
        method = "open"
    regime = REGIMES.get(header.regime or "")
    if regime and regime != details:
        details = f"{details} ({regime})"
    return method, details


def _document(
    doc_id: str,
    step_type: str,
    title: str,
    occurred_at: str,
    *,
    url: str | None = None,
    description: str | None = None,
    document_type: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": doc_id,
        "documentType": document_type or DOCUMENT_TYPES.get(step_type, "bidders"),
        "title": title,
        "description": description,
        "url": url,
        "datePublished": occurred_at,
        "language": "cs",
    }
    return {key: value for key, value in item.items() if value}


def _documents(entry: Mapping[str, Any], step_type: str, seq: int) -> list[dict[str, Any]]:
    """The documents recorded with the step (title, URL, SHA-256, size, media type)."""
    out = []
    for index, doc in enumerate(entry.get("documents") or [], start=1):
        item = _document(
            f"{seq}.{index}",
            step_type,
            str(doc.get("title") or ""),
            rfc3339(entry.get("occurred_at")),
            url=doc.get("url"),
            description=(
                f"SHA-256 {doc['sha256']}, {doc.get('size', '?')} bytes"
                if doc.get("sha256")
                else None
            ),
        )
        if doc.get("media_type"):
            item["format"] = doc["media_type"]
        out.append(item)
    return out


def _link_document(
    seq: int,
    step_type: str,
    url: str | None,
    occurred_at: str,
    title: str,
    description: str | None = None,
) -> list[dict[str, Any]]:
    if not url:
        return []
    return [_document(f"{seq}.0", step_type, title, occurred_at, url=url, description=description)]


def _external_documents(header: ProcurementHeader) -> list[dict[str, Any]]:
    """Release 0's documents naming where the procurement is known elsewhere."""
    out = []
    for key, value in header.external_ids:
        document_type, system = EXTERNAL_IDS.get(key, ("", key))
        is_url = value.startswith(("http://", "https://"))
        item: dict[str, Any] = {
            "id": f"external-{key}",
            "documentType": document_type,
            "title": system if is_url else f"{system}: {value}",
            "url": value if is_url else None,
        }
        out.append({k: v for k, v in item.items() if v})
    return out


def _tender_base(state: _State) -> dict[str, Any]:
    header = state.header
    method, details = _method(state)
    tender: dict[str, Any] = {
        "id": header.ocid,
        "title": header.title,
        "status": state.tender_status,
        "procuringEntity": _buyer_ref(header),
        "procurementMethod": method,
        "procurementMethodDetails": details,
    }
    if header.legal_ground:
        tender["procurementMethodRationale"] = header.legal_ground
    if header.description:
        tender["description"] = header.description
    if header.subject in SUBJECT_CATEGORY:
        tender["mainProcurementCategory"] = SUBJECT_CATEGORY[header.subject]
    if header.estimated_value_excl_vat is not None:
        tender["value"] = {
            "amount": amount(header.estimated_value_excl_vat),
            "currency": header.currency,
        }
    if header.cpv_codes:
        first, *rest = header.cpv_codes
        item: dict[str, Any] = {
            "id": "1",
            "description": header.title,
            "classification": {"scheme": "CPV", "id": first.split("-")[0]},
        }
        if rest:
            item["additionalClassifications"] = [
                {"scheme": "CPV", "id": code.split("-")[0]} for code in rest
            ]
        tender["items"] = [item]
    return tender


def _value(money_value: Any, currency: str) -> dict[str, Any]:
    return {"amount": amount(money_value), "currency": currency}


def _bid_id(ico: str) -> str:
    return f"bid-{ico}"


def _apply(
    state: _State,
    release: dict[str, Any],
    step_type: str,
    data: Mapping[str, Any],
    entry: Mapping[str, Any],
    seq: int,
) -> None:
    """Fill ``release`` with what step ``seq`` of ``step_type`` says, and advance the state."""
    header = state.header
    occurred = rfc3339(entry.get("occurred_at"))
    docs = _documents(entry, step_type, seq)
    tender = release.setdefault("tender", {})

    if step_type == "procurement_approved":
        planning: dict[str, Any] = {
            "rationale": f"Approved by the {data.get('body', 'council')}, "
            f"resolution {data.get('resolution_id', '-')}",
        }
        if header.estimated_value_excl_vat is not None:
            planning["budget"] = {
                "description": "Estimated value excluding VAT",
                "amount": _value(header.estimated_value_excl_vat, header.currency),
            }
        if docs:
            planning["documents"] = docs
            docs = []
        release["planning"] = planning
        state.tender_status = "planned"
    elif step_type in ("notice_published", "invitation_sent"):
        state.tender_status = "active"
        deadline = data.get("bid_deadline")
        period: dict[str, Any] = {"startDate": occurred}
        if deadline:
            period["endDate"] = rfc3339(deadline)
        tender["tenderPeriod"] = period
        if step_type == "notice_published":
            state.public_call = True
            channel = CHANNELS.get(str(data.get("channel")), str(data.get("channel", "")))
            docs += _link_document(
                seq,
                step_type,
                data.get("url"),
                occurred,
                f"Notice {data.get('notice_id', '')}".strip(),
                f"Published in: {channel}" if channel else None,
            )
        invited = []
        for supplier in data.get("suppliers") or []:
            party_id = supplier_party_id(supplier["ico"])
            state.party(party_id, supplier.get("name"), None)
            state.bids.setdefault(supplier["ico"], "invited")
            # bidStatus "invited": "A bid has been invited from the listed tenderer(s)."
            invited.append(
                {
                    "id": _bid_id(supplier["ico"]),
                    "status": "invited",
                    "tenderers": [state.ref(party_id)],
                }
            )
        if invited:
            release["bids"] = {"details": invited}
    elif step_type == "tender_documents_published":
        docs += _link_document(seq, step_type, data.get("url"), occurred, "Tender documents")
    elif step_type == "clarification_published":
        docs.append(
            _document(
                f"{seq}.0",
                step_type,
                "Clarification",
                occurred,
                url=data.get("url"),
                description=str(data.get("summary", "")),
            )
        )
    elif step_type == "bid_deadline_extended":
        new_deadline = rfc3339(data.get("new_bid_deadline"))
        tender["tenderPeriod"] = {"endDate": new_deadline}
        tender["amendments"] = [
            {
                "id": str(seq),
                "date": occurred,
                "rationale": str(data.get("reason", "")),
                "description": f"Bid deadline extended to {new_deadline}",
            }
        ]
    elif step_type == "bids_opened":
        bids = data.get("bids") or []
        details = []
        tenderers = []
        for bid in bids:
            party_id = supplier_party_id(bid["ico"])
            state.party(party_id, bid.get("name"), "tenderer")
            tenderers.append(state.ref(party_id))
            # bidStatus "pending": "A bid has been submitted but not yet evaluated."
            state.bids[bid["ico"]] = "pending"
            detail: dict[str, Any] = {
                "id": _bid_id(bid["ico"]),
                "date": occurred,
                "status": "pending",
                "tenderers": [state.ref(party_id)],
            }
            if bid.get("price_excl_vat") is not None:
                detail["value"] = _value(bid["price_excl_vat"], header.currency)
            details.append(detail)
        tender["numberOfTenderers"] = len(bids)
        tender["tenderers"] = tenderers
        release["bids"] = {"details": details}
    elif step_type == "evaluation_completed":
        excluded = {item["ico"]: str(item.get("reason", "")) for item in data.get("excluded") or []}
        details = []
        for ico, reason in excluded.items():
            party_id = supplier_party_id(ico)
            state.party(party_id, None, "tenderer")
            state.bids[ico] = "disqualified"
            details.append(
                {
                    "id": _bid_id(ico),
                    "status": "disqualified",
                    "tenderers": [state.ref(party_id)],
                    "documents": [
                        _document(
                            f"{seq}.0",
                            step_type,
                            "Exclusion",
                            occurred,
                            description=reason,
                        )
                    ],
                }
            )
        for ico, status in state.bids.items():
            if status == "pending":
                state.bids[ico] = "valid"
                details.append({"id": _bid_id(ico), "status": "valid"})
        if details:
            release["bids"] = {"details": details}
        if data.get("summary"):
            docs.append(
                _document(
                    f"{seq}.0",
                    step_type,
                    "Evaluation",
                    occurred,
                    description=str(data["summary"]),
                )
            )
    elif step_type in ("objection_filed", "objection_decided"):
        summary = str(data.get("summary", ""))
        if step_type == "objection_decided":
            summary = f"{data.get('outcome', '')}: {summary}"
        else:
            objector = supplier_party_id(str(data.get("objector_ico")))
            summary = f"{state.ref(objector)['name']} (IČO {data.get('objector_ico')}): {summary}"
        docs.append(
            _document(
                f"{seq}.0",
                step_type,
                "Objection" if step_type == "objection_filed" else "Objection decision",
                occurred,
                description=summary,
            )
        )
    elif step_type == "report_published":
        docs += _link_document(seq, step_type, data.get("url"), occurred, "Written report")
    elif step_type == "selection_decided":
        awards = []
        if state.award_id is not None and state.award_id != f"award-{seq}":
            awards.append({"id": state.award_id, "status": "cancelled"})
        state.award_id = f"award-{seq}"
        winner = str(data.get("winner_ico"))
        party_id = supplier_party_id(winner)
        state.party(party_id, data.get("winner_name"), "supplier")
        state.supplier = state.ref(party_id)
        award: dict[str, Any] = {
            "id": state.award_id,
            "status": "pending",
            "date": occurred,
            "suppliers": [state.supplier],
        }
        if data.get("resolution_id"):
            award["description"] = f"Selected by resolution {data['resolution_id']}"
        if data.get("price_excl_vat") is not None:
            award["value"] = _value(data["price_excl_vat"], header.currency)
        if winner in state.bids:
            award["relatedBid"] = _bid_id(winner)
        if docs:
            award["documents"] = docs
            docs = []
        awards.append(award)
        release["awards"] = awards
        state.tender_status = "complete"
    elif step_type == "result_notice_published":
        channel = CHANNELS.get(str(data.get("channel")), str(data.get("channel", "")))
        link = _link_document(
            seq,
            step_type,
            data.get("url"),
            occurred,
            f"Result notice {data.get('notice_id', '')}".strip(),
            f"Published in: {channel}" if channel else None,
        )
        if state.award_id is not None:
            release["awards"] = [{"id": state.award_id, "documents": docs + link}]
            docs = []
        else:
            docs += link
    elif step_type == "contract_signed":
        party_id = supplier_party_id(str(data.get("supplier_ico")))
        state.party(party_id, data.get("supplier_name"), "supplier")
        state.supplier = state.ref(party_id)
        state.contract_id = f"contract-{seq}"
        state.contract_value = Decimal(str(data.get("value_excl_vat", "0")))
        if state.award_id is None:
            # A contract without a recorded selection (direct award): give it an award.
            state.award_id = f"award-{seq}"
            release["awards"] = [
                {
                    "id": state.award_id,
                    "status": "active",
                    "date": occurred,
                    "suppliers": [state.supplier],
                    "value": _value(state.contract_value, header.currency),
                }
            ]
        else:
            release["awards"] = [{"id": state.award_id, "status": "active"}]
        state.contracts[state.contract_id] = state.award_id
        contract: dict[str, Any] = {
            "id": state.contract_id,
            "awardID": state.award_id,
            "title": header.title,
            "description": CONTRACT_FORMS.get(str(data.get("form", "contract")), "Contract"),
            "status": "active",
            "value": _value(state.contract_value, header.currency),
        }
        if data.get("signed_on"):
            contract["dateSigned"] = rfc3339(data["signed_on"])
        if docs:
            contract["documents"] = docs
            docs = []
        release["contracts"] = [contract]
        state.tender_status = "complete"
    elif step_type in ("contract_published", "contract_amended", "payment_made") or (
        step_type == "price_paid_published"
    ):
        # The rules record these only after contract_signed (a contract exists).
        contract_part = _contract_step(state, step_type, data, occurred, seq, docs)
        if contract_part is not None:
            docs = []
            release["contracts"] = [contract_part]
    elif step_type == "completed":
        state.tender_status = "complete"
        if state.contracts:
            release["contracts"] = [
                {"id": cid, "awardID": award_id, "status": "terminated"}
                for cid, award_id in state.contracts.items()
            ]
    elif step_type == "cancelled":
        state.tender_status = "cancelled"
        docs.append(
            _document(
                f"{seq}.0",
                step_type,
                "Cancellation",
                occurred,
                description=f"{data.get('reason', '')} ({data.get('legal_basis', '')})",
            )
        )
        if state.award_id is not None and not state.contracts:
            release["awards"] = [{"id": state.award_id, "status": "cancelled"}]
    if docs:
        tender["documents"] = docs


def _contract_step(
    state: _State,
    step_type: str,
    data: Mapping[str, Any],
    occurred: str,
    seq: int,
    docs: list[dict[str, Any]],
) -> dict[str, Any] | None:
    if state.contract_id is None:
        return None
    currency = state.header.currency
    part: dict[str, Any] = {"id": state.contract_id, "awardID": state.contracts[state.contract_id]}
    if step_type == "contract_published":
        register = data.get("register", "profile")
        title = "Contract register" if register == "contract_register" else "Buyer profile"
        part["documents"] = docs + _link_document(
            seq, step_type, data.get("url"), occurred, f"{title}: {data.get('id', '')}".strip()
        )
    elif step_type == "contract_amended":
        change = Decimal(str(data.get("value_change_excl_vat", "0")))
        state.contract_value += change
        part["value"] = _value(state.contract_value, currency)
        part["amendments"] = [
            {
                "id": str(seq),
                "date": occurred,
                "rationale": str(data.get("reason", "")),
                "description": f"Value change {money(change)} {currency} excluding VAT",
            }
        ]
        if docs:
            part["documents"] = docs
    elif step_type == "payment_made":
        payer = _buyer_ref(state.header)
        transaction: dict[str, Any] = {
            "id": str(seq),
            "date": rfc3339(data.get("paid_on") or occurred),
            "value": _value(data.get("amount_excl_vat", "0"), currency),
            "payer": payer,
        }
        state.party(payer["id"], None, "payer")
        if state.supplier is not None:
            transaction["payee"] = state.supplier
            state.party(state.supplier["id"], None, "payee")
        part["implementation"] = {"transactions": [transaction]}
        if docs:
            part["implementation"]["documents"] = docs
    else:  # price_paid_published
        documents = docs + _link_document(seq, step_type, data.get("url"), occurred, "Price paid")
        if data.get("amount_excl_vat") is not None:
            for document in documents:
                document.setdefault(
                    "description",
                    f"Price actually paid {money(data['amount_excl_vat'])} {currency} "
                    "excluding VAT",
                )
        part["implementation"] = {"documents": documents}
    return part


def _release_shell(state: _State, release_id: str, date_: str, tag: str) -> dict[str, Any]:
    header = state.header
    return {
        "ocid": header.ocid,
        "id": release_id,
        "date": date_,
        "tag": [tag],
        "initiationType": "tender",
        "language": "cs",
        "buyer": _buyer_ref(header),
    }


# Where a release refers to parties (OrganizationReference), by the path to the member.
_REFERENCES: tuple[tuple[str, ...], ...] = (
    ("buyer",),
    ("tender", "procuringEntity"),
    ("tender", "tenderers", "*"),
    ("bids", "details", "*", "tenderers", "*"),
    ("awards", "*", "suppliers", "*"),
    ("contracts", "*", "implementation", "transactions", "*", "payer"),
    ("contracts", "*", "implementation", "transactions", "*", "payee"),
)


def _referenced(value: Any, path: tuple[str, ...]) -> Iterator[str]:
    if not path:
        if isinstance(value, dict) and "id" in value:
            yield str(value["id"])
        return
    head, rest = path[0], path[1:]
    if head == "*":
        for item in value if isinstance(value, list) else ():
            yield from _referenced(item, rest)
    elif isinstance(value, dict) and head in value:
        yield from _referenced(value[head], rest)


def _finish(
    state: _State, release: dict[str, Any], before: dict[str, tuple[set[str], str]]
) -> None:
    tender = release.setdefault("tender", {})
    base = _tender_base(state)
    for key, value in base.items():
        tender.setdefault(key, value)
    # The parties the release refers to (every release names the buyer) and those whose
    # roles or names changed with this step; roles merge as a whole list, so each party
    # carries all its roles so far.
    wanted = {pid for path in _REFERENCES for pid in _referenced(release, path)}
    wanted |= {
        pid
        for pid in state.roles
        if before.get(pid) != (set(state.roles[pid]), state.names.get(pid, ""))
    }
    parties = [_party_object(state, pid) for pid in state.roles if pid in wanted]
    if parties:
        release["parties"] = parties


def _snapshot(state: _State) -> dict[str, tuple[set[str], str]]:
    return {pid: (set(roles), state.names.get(pid, "")) for pid, roles in state.roles.items()}


def build_releases(
    header_source: Any, entries: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Release 0 (the procurement as opened) and one release per entry, in ``seq`` order."""
    header = (
        header_source
        if isinstance(header_source, ProcurementHeader)
        else ProcurementHeader.of(header_source)
    )
    state = _State(header=header)
    buyer = buyer_party_id(header)
    state.party(buyer, header.buyer_name, "buyer")
    state.party(buyer, None, "procuringEntity")
    opening = _release_shell(state, f"{header.ocid}-0", header.created_at, "planning")
    if header.estimated_value_excl_vat is not None:
        opening["planning"] = {
            "budget": {
                "description": "Estimated value excluding VAT",
                "amount": _value(header.estimated_value_excl_vat, header.currency),
            }
        }
    external = _external_documents(header)
    if external:
        opening["tender"] = {"documents": external}
    _finish(state, opening, {})
    releases = [opening]
    last = moment(header.created_at)
    for entry in sorted(entries, key=lambda e: int(e["seq"])):
        seq = int(entry["seq"])
        step_type = str(entry["type"])
        data: dict[str, Any] = dict(entry.get("data") or {})
        state.entries_by_seq[seq] = entry
        # Releases are ordered by date when merged: never let one go back in time (a step
        # is logged after the procurement was opened, but compare moments, not strings).
        last = max(moment(entry.get("recorded_at") or entry.get("occurred_at")), last)
        release_date_ = release_date(last)
        before = _snapshot(state)
        if step_type == "correction":
            release, state = _correction(state, entry, data, seq, release_date_)
        else:
            tag = STEP_TAGS.get(step_type, "tenderUpdate")
            release = _release_shell(state, f"{header.ocid}-{seq}", release_date_, tag)
            _apply(state, release, step_type, data, entry, seq)
        _finish(state, release, before)
        releases.append(release)
    return releases


def _correction(
    state: _State, entry: Mapping[str, Any], data: Mapping[str, Any], seq: int, date_: str
) -> tuple[dict[str, Any], _State]:
    """A correction re-states only what it changes in the step it corrects.

    The corrected step (for a correction of a correction, the step at the end of the chain)
    is mapped twice from the current state, with its effective data before this correction
    and with its effective data after it (``procurement.trail``); the release carries the
    difference (so a correction of a notice's id does not undo a later deadline extension).
    """
    header = state.header
    target_seq = int(data.get("corrects_seq") or 0)
    before_entries = dict(state.entries_by_seq)
    before_entries.pop(seq, None)
    root_seq = correction_root(state.entries_by_seq, seq)
    note = {
        "id": f"{seq}.0",
        "documentType": "clarifications",
        "title": f"Correction of step {target_seq}",
        "description": str(data.get("reason", "")),
        "datePublished": rfc3339(entry.get("occurred_at")),
    }
    if root_seq is None or root_seq == seq:
        release = _release_shell(state, f"{header.ocid}-{seq}", date_, "tenderUpdate")
        release["tender"] = {"documents": [note]}
        return release, state
    target = state.entries_by_seq[root_seq]
    was = {s.seq: s.data for s in effective_steps(before_entries.values())}[root_seq]
    now = {s.seq: s.data for s in effective_steps(state.entries_by_seq.values())}[root_seq]
    original_type = str(target["type"])
    tag = CORRECTION_TAGS.get(STEP_TAGS.get(original_type, ""), "tenderUpdate")
    as_was, as_is = copy.deepcopy(state), copy.deepcopy(state)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _apply(as_was, before, original_type, was, target, root_seq)
    _apply(as_is, after, original_type, now, target, root_seq)
    as_is.contract_value = state.contract_value + (as_is.contract_value - as_was.contract_value)
    as_is.entries_by_seq = state.entries_by_seq
    release = _release_shell(state, f"{header.ocid}-{seq}", date_, tag)
    release.update(_difference(before, after))
    release.setdefault("tender", {}).setdefault("documents", []).append(note)
    return release, as_is


def _is_value(item: Any) -> bool:
    return isinstance(item, dict) and "amount" in item and "currency" in item


def _difference(old: Any, new: Any) -> Any:
    """What ``new`` sets differently from ``old`` (objects in arrays matched by ``id``).

    An amount and its currency are one value: a changed ``Value`` is re-stated whole, so a
    release never carries an amount without its currency."""
    if _is_value(new):
        return new
    if isinstance(old, dict) and isinstance(new, dict):
        out = {}
        for key, value in new.items():
            if key not in old:
                out[key] = value
            elif old[key] != value:
                changed = _difference(old[key], value)
                # Nothing left to state (a list lost an item, which merging cannot express).
                if changed not in ({}, []):
                    out[key] = changed
        return out
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and all(isinstance(item, dict) and "id" in item for item in old + new)
    ):
        previous = {item["id"]: item for item in old}
        changed = []
        for item in new:
            if item["id"] not in previous:
                changed.append(item)
            elif previous[item["id"]] != item:
                changed.append({"id": item["id"], **_difference(previous[item["id"]], item)})
        return changed
    return new


def uses_bid_extension(releases: Sequence[Mapping[str, Any]]) -> bool:
    return any("bids" in release for release in releases)


def _package_meta(
    uri: str, published: str, publication: Publication, extensions: bool
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": published,
        **publication.meta(),
    }
    if extensions:
        meta["extensions"] = [BID_EXTENSION]
    return meta


def release_package(
    releases: list[dict[str, Any]], *, uri: str, publication: Publication = Publication()
) -> dict[str, Any]:
    """A release package of one procurement's releases (at least release 0)."""
    published = max(release["date"] for release in releases)
    package = _package_meta(uri, published, publication, uses_bid_extension(releases))
    package["releases"] = releases
    return package


def compile_record(
    releases: list[dict[str, Any]], *, releases_uri: str, versioned: bool = True
) -> dict[str, Any]:
    """The record of one procurement: linked releases, compiled (and versioned) release."""
    record: dict[str, Any] = {
        "ocid": releases[0]["ocid"],
        "releases": [
            {
                "url": f"{releases_uri}#{release['id']}",
                "date": release["date"],
                "tag": release["tag"],
            }
            for release in releases
        ],
        "compiledRelease": _MERGER.create_compiled_release(releases),
    }
    if versioned:
        record["versionedRelease"] = _MERGER.create_versioned_release(releases)
    return record


def record_package(
    releases: list[dict[str, Any]],
    *,
    uri: str,
    releases_uri: str,
    publication: Publication = Publication(),
    versioned: bool = False,
) -> dict[str, Any]:
    """A record package holding the one record of a procurement (``versioned`` adds the
    versioned release)."""
    published = max(release["date"] for release in releases)
    package = _package_meta(uri, published, publication, uses_bid_extension(releases))
    package["packages"] = [releases_uri]
    package["records"] = [compile_record(releases, releases_uri=releases_uri, versioned=versioned)]
    return package


def publication_policy(publication: Publication, base_url: str) -> str:
    """The publication policy (Markdown) that packages name when the operator set none."""
    base = base_url.rstrip("/")
    licence = publication.license or "not stated"
    return f"""# OCDS publication policy: {publication.publisher}

## What is published

Every procurement opened in this service and every step of its trail (approval, notices
and invitations, tender documents, clarifications, bids, exclusions, selection, objections,
contract, publication, amendments, payments, completion or cancellation, corrections),
in the Open Contracting Data Standard 1.1 with the bid extension (v1.1.5).

## When

A step becomes a release when it is recorded: release `<ocid>-<seq>` is dated with the
moment the step entered the public, append-only ledger; release `<ocid>-0` is the
procurement as it was opened. Packages are built from the ledger when they are read, so
they are always current.

## Where

- `{base}/v1/procurements/{{ocid}}/ocds/releases`: a procurement's release package
- `{base}/v1/procurements/{{ocid}}/ocds/record`: its record package
  (`?versioned=true` adds the versioned release)
- `{base}/v1/exports/procurements?format=ocds`: a record package of many procurements
- `{base}/v1/exports/steps?format=ocds`: a release package of many steps, each
  procurement's release 0 with them

## How to read it

- Amounts are in CZK **excluding VAT** (OCDS 1.1 `Value` has no VAT flag).
- Suppliers are identified by their IČO (scheme `CZ-ICO`, party id `CZ-ICO-<ičo>`). The
  buyer, a municipality, by its IČO when the municipalities register gives it, otherwise
  by its municipality code (kód obce) under the scheme `CZ-KOD-OBCE` (party id
  `CZ-KOD-OBCE-<code>`), which a buyer with an IČO keeps as an additional identifier.
- Steps are never changed. A mistake is fixed by a correction step, whose release
  re-states what it changes under an update tag, with a note naming the corrected step.
- Where the procurement is known elsewhere (buyer profile, VVZ, TED, NEN, contract
  register) is listed in release 0's tender documents.
- Every release is a ledger entry: the ledger's signed checkpoints and proofs
  (`{base}/v1/ledger/...`) let anyone verify that nothing was changed or removed.

## Licence

{licence}
"""
