"""The contract-register mirror: importing dumps, listing records, and what the
cross-checks read of it (candidates for a trail's contract, the coverage of the imported
dumps, the town's records no trail answers for). No HTTP; services flush, the caller
commits. SQL lives in ``repository``."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlmodel import Session

from api.auth import as_utc, utcnow
from procurement.register import repository as repo
from procurement.register.exceptions import MunicipalityWithoutIco, UnknownBuyer
from procurement.register.matching import (
    Coverage,
    RegisterFacts,
    TrailContract,
    candidate_window,
    matches,
    trail_contract,
)
from procurement.register.parser import DumpHeader, DumpReader, Entry, Skipped
from procurement.trail import effective_steps, without_corrections

BATCH = 2000
# One encoder, made once (json.dumps with options builds a new one per call).
JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
HASH_CHUNK = 1 << 20
SKIPPED_SHOWN = 20

Key = tuple[int, int]


# -- import -----------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did: versions new to the mirror, updated (a later dump states them
    differently, or their validity changed), unchanged, left as they were because a later
    generation of the same month's dump was imported already (``stale``), and skipped (no
    identifiers; the first few with their line)."""

    file_sha256: str
    header: DumpHeader
    already_imported: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    skipped: int = 0
    skipped_examples: list[Skipped] = field(default_factory=list)

    @property
    def records(self) -> int:
        return self.created + self.updated + self.unchanged + self.stale


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def import_dump(
    session: Session, path: Path, *, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Load one dump into the mirror; on an error the caller rolls back and nothing is
    kept. Idempotent: a version (``idSmlouvy``/``idVerze``) is stored once, the same file
    again writes nothing, a later dump updates what it states differently. ``progress``
    gets the bytes read so far."""
    sha = file_sha256(path)
    with path.open("rb") as raw:
        stream: Any = _Counting(raw, progress) if progress else raw
        reader = DumpReader(stream)
        report = ImportReport(file_sha256=sha, header=reader.header)
        imported = repo.dump_with_sha256(session, sha)
        if imported is not None:
            report.already_imported = True
            report.header = DumpHeader(
                year=imported["year"],
                month=imported["month"],
                generated_at=imported["generated_at"] and as_utc(imported["generated_at"]),
                complete=imported["complete"],
            )
            return report
        dump_id = repo.insert_dump(session, {"sha256": sha, "imported_at": utcnow()})
        stale: bool | None = None
        for batch in _batches(reader, BATCH):
            if stale is None:  # the dump's own elements come before its records
                stale = _is_stale(session, reader.header, dump_id)
            _store_batch(session, batch, dump_id, stale, report)
    header = reader.header
    repo.update_dump(
        session,
        dump_id,
        {
            "year": header.year,
            "month": header.month,
            "generated_at": header.generated_at,
            "complete": header.complete,
            "records": report.records,
        },
    )
    session.flush()
    return report


class _Counting:
    """A binary stream that reports how many bytes were read (for a progress bar)."""

    def __init__(self, stream: IO[bytes], progress: Callable[[int], None]) -> None:
        self.stream = stream
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.progress(self.stream.tell())
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.stream.seek(offset, whence)


def _batches(items: Iterable[Entry | Skipped], size: int) -> Iterator[list[Entry | Skipped]]:
    batch: list[Entry | Skipped] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _is_stale(session: Session, header: DumpHeader, dump_id: int) -> bool:
    """Was a later generation of the same month's dump imported already? Then the
    versions both list stay as the later one states them."""
    if header.year is None or header.month is None or header.generated_at is None:
        return False
    return repo.later_generation_exists(
        session, dump_id, header.year, header.month, header.generated_at
    )


# The columns an import writes, in the order of ``_record_values``.
RECORD_COLUMNS = (
    "contract_id",
    "version_id",
    "url",
    "published_at",
    "published_at_raw",
    "signed_on",
    "signed_on_raw",
    "subject",
    "subject_raw",
    "contract_number",
    "value_excl_vat",
    "value_excl_vat_raw",
    "value_incl_vat",
    "value_incl_vat_raw",
    "foreign_value",
    "foreign_value_raw",
    "foreign_currency",
    "foreign_currency_raw",
    "price_not_stated",
    "linked_record",
    "linked_record_url",
    "parties",
    "valid",
    "dump_id",
)
# What a version states, its validity aside (the raw texts, and the parties): a later
# dump that repeats it unchanged writes nothing.
STATED = (
    "url",
    "published_at_raw",
    "signed_on_raw",
    "subject_raw",
    "contract_number",
    "value_excl_vat_raw",
    "value_incl_vat_raw",
    "foreign_value_raw",
    "foreign_currency_raw",
    "price_not_stated",
    "linked_record",
    "linked_record_url",
    "parties",
)
PARTY_ICO_COLUMNS = ("ico", "contract_id", "version_id")


def _record_values(e: Entry, parties_json: str, dump_id: int) -> tuple[Any, ...]:
    return (
        e.contract_id,
        e.version_id,
        e.url,
        e.published_at,
        e.published_at_raw,
        e.signed_on,
        e.signed_on_raw,
        e.subject,
        e.subject_raw,
        e.contract_number,
        e.value_excl_vat,
        e.value_excl_vat_raw,
        e.value_incl_vat,
        e.value_incl_vat_raw,
        e.foreign_value,
        e.foreign_value_raw,
        e.foreign_currency,
        e.foreign_currency_raw,
        e.price_not_stated,
        e.linked_record,
        e.linked_record_url,
        parties_json,
        e.valid,
        dump_id,
    )


def _party_icos(e: Entry) -> list[tuple[str, int, int]]:
    icos = {p.ico for p in e.parties if p.ico}  # once per record, whatever its roles
    return [(ico, e.contract_id, e.version_id) for ico in icos]


def _insert(session: Session, entries: Sequence[Entry], dump_id: int) -> None:
    records = [_record_values(e, JSON.encode(e.parties), dump_id) for e in entries]
    repo.insert_rows(session, repo.RECORDS, RECORD_COLUMNS, records)
    icos = [row for e in entries for row in _party_icos(e)]
    repo.insert_rows(session, repo.PARTY_ICOS, PARTY_ICO_COLUMNS, icos)


def _stated(entry: Entry) -> tuple[Any, ...]:
    parties = [list(party) for party in entry.parties]  # as the JSON column reads back
    return (*(getattr(entry, name) for name in STATED[:-1]), parties)


def _store_batch(
    session: Session,
    batch: Sequence[Entry | Skipped],
    dump_id: int,
    stale: bool,
    report: ImportReport,
) -> None:
    entries: dict[Key, Entry] = {}
    for item in batch:
        if isinstance(item, Skipped):
            report.skipped += 1
            if len(report.skipped_examples) < SKIPPED_SHOWN:
                report.skipped_examples.append(item)
        else:  # a version listed twice: the later one counts
            entries[(item.contract_id, item.version_id)] = item
    if not entries:
        return
    known = repo.known_keys(session, entries)
    _insert(session, [e for key, e in entries.items() if key not in known], dump_id)
    report.created += len(entries) - len(known)
    if not known:
        return
    if stale:
        report.stale += len(known)
        return
    stored = repo.stored_rows(session, sorted(known), ("valid", *STATED))
    restated: list[Entry] = []
    for key in sorted(known):
        entry = entries[key]
        valid, *statement = stored[key]
        if tuple(statement) != _stated(entry):
            restated.append(entry)
        elif valid != entry.valid:
            repo.set_validity(session, key, entry.valid, dump_id)
            report.updated += 1
        else:
            report.unchanged += 1
    if restated:
        repo.delete_versions(session, [(e.contract_id, e.version_id) for e in restated])
        _insert(session, restated, dump_id)
        report.updated += len(restated)


# -- reading ----------------------------------------------------------------------------------


def list_records(
    session: Session,
    *,
    ico: str | None,
    signed_from: date | None,
    signed_to: date | None,
    all_versions: bool,
    after: Key | None,
    limit: int,
) -> tuple[list[Any], Key | None]:
    """A page of records in (contract, version) order, and the key to continue after."""
    rows = repo.record_rows(
        session,
        ico=ico,
        signed_from=signed_from,
        signed_to=signed_to,
        current_only=not all_versions,
        after=after,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    last = (rows[-1]["contract_id"], rows[-1]["version_id"]) if more and rows else None
    return rows, last


def coverage(session: Session) -> Coverage:
    return Coverage.of(repo.dump_months(session))


class SqlRegisterLookup:
    """The mirror as the red flags read it (``procurement.register.matching.RegisterLookup``):
    built per request; ``coverage`` is read once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.coverage = coverage(session)
        self._icos: dict[str, str | None] = {}

    def buyer_ico(self, buyer_code: str) -> str | None:
        if buyer_code not in self._icos:
            self._icos.update(repo.municipality_icos(self.session, [buyer_code]))
            self._icos.setdefault(buyer_code, None)
        return self._icos[buyer_code]

    def candidates(self, contract: TrailContract) -> list[RegisterFacts]:
        rows: dict[Key, Any] = {}
        if contract.register_ids:
            for row in repo.record_rows(self.session, contract_ids=sorted(contract.register_ids)):
                rows[(row["contract_id"], row["version_id"])] = row
        if contract.buyer_ico and contract.supplier_ico:
            first, last = candidate_window(contract)
            for row in repo.candidate_rows(
                self.session, contract.buyer_ico, contract.supplier_ico, first, last
            ):
                rows[(row["contract_id"], row["version_id"])] = row
        return [RegisterFacts.of(row) for row in rows.values()]


def register_lookup(session: Session) -> SqlRegisterLookup | None:
    """The lookup for the red flags, or None while no dump was imported (no flag then)."""
    if not repo.any_dumps(session):
        return None
    return SqlRegisterLookup(session)


def buyer_ico_of(session: Session, buyer_code: str) -> str:
    icos = repo.municipality_icos(session, [buyer_code])
    if buyer_code not in icos:
        raise UnknownBuyer(buyer_code)
    ico = icos[buyer_code]
    if not ico:
        raise MunicipalityWithoutIco(buyer_code)
    return ico


def buyer_trail_contracts(session: Session, buyer_code: str, buyer_ico: str) -> list[TrailContract]:
    """The contracts of a buyer's trails (effective data: corrections applied)."""
    contracts = []
    for ocid, _buyer, external_ids, entries in repo.buyer_contract_trails(session, buyer_code):
        steps = [s.as_entry() for s in without_corrections(effective_steps(entries))]
        contract = trail_contract(ocid, buyer_ico, external_ids, steps)
        if contract is not None:
            contracts.append(contract)
    return contracts


SCAN = 500


def unmatched_records(
    session: Session,
    *,
    buyer_code: str,
    signed_from: date | None,
    signed_to: date | None,
    after: Key | None,
    limit: int,
) -> tuple[list[Any], Key | None]:
    """Current records naming the town's IČO as a party that no trail of the town matches
    (``procurement.register.matching``), in (contract, version) order: a page and the key
    to continue after. An auditor's list, not a verdict: many such contracts need no
    procurement (leases, grants, sales, contracts the town receives money from)."""
    buyer_ico = buyer_ico_of(session, buyer_code)
    contracts = buyer_trail_contracts(session, buyer_code, buyer_ico)
    by_link: dict[int, list[TrailContract]] = defaultdict(list)
    by_supplier: dict[str, list[TrailContract]] = defaultdict(list)
    for contract in contracts:
        for link in contract.register_ids:
            by_link[link].append(contract)
        by_supplier[contract.supplier_ico].append(contract)

    def answered(row: Any) -> bool:
        record = RegisterFacts.of(row)
        near = [c for ico in record.party_icos for c in by_supplier.get(ico, ())]
        return any(matches(c, record) for c in [*by_link.get(record.contract_id, ()), *near])

    found: list[Any] = []
    position = after
    while len(found) <= limit:
        rows = repo.record_rows(
            session,
            ico=buyer_ico,
            signed_from=signed_from,
            signed_to=signed_to,
            after=position,
            limit=SCAN,
        )
        for row in rows:
            if not answered(row):
                found.append(row)
                if len(found) > limit:
                    break
        if len(rows) < SCAN:
            break
        position = (rows[-1]["contract_id"], rows[-1]["version_id"])
    more = len(found) > limit
    found = found[:limit]
    last = (found[-1]["contract_id"], found[-1]["version_id"]) if more else None
    return found, last
