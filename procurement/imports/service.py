"""Importing a buyer profile export into the trail: idempotent and append-only.

``open_import`` reads and checks a file and plans each of its parts (``mapping``);
``BuyerProfileImport.import_batch`` writes a batch of parts in the caller's transaction
(in one savepoint, written again without a part the service refuses: no part is ever half
written), and ``report`` says what happened. Services flush,
never commit: the API route commits the whole file at once, the CLI one batch at a time.

* A part is matched to a procurement imported before by its ids on the profile
  (``external_ids``: profile, zakazka, part), a step to a step imported before by its key
  (its type and what it is: ``bids_opened``, ``document:<url>``, ``payment_made:<IČO>:
  <year>``). A step whose key the trail has and whose facts (moment, data, documents) equal
  the trail's effective step is unchanged; one whose facts differ is a *conflict*, reported
  and never written (no step is changed and no correction invented); a new key is appended.
* Each step is recorded through ``procurement.service.record_step`` as an imported step:
  its ledger entry carries ``imported_from`` (file SHA-256, element path, the element that
  dates it, its key) and is appended with its step in the same transaction.
* Once a batch has appended, the tree it leaves is signed (``checkpoint_now``) before the
  caller commits, so the new entries are under a signed checkpoint however the log's
  checkpoint cadence is set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from api.auth import Caller, ensure, utcnow
from api.errors import AppError
from catalogue.service import municipality_ico
from procurement import service as trail
from procurement.calendar import local_date
from procurement.imports import repository
from procurement.imports.exceptions import NotThisBuyer, UnknownBuyer
from procurement.imports.mapping import PartPlan, plan_part, read_ico
from procurement.imports.parser import BuyerProfile, parse_buyer_profile
from procurement.imports.schemas import (
    BuyerProfileImportReport,
    ImportConflict,
    ImportedItem,
    NotRecorded,
    UnknownValue,
)
from procurement.ledger import service as ledger
from procurement.rules import procedure


def open_import(
    session: Session,
    data: bytes,
    caller: Caller,
    *,
    buyer_code: str,
    ocid_prefix: str,
    subject_when_unstated: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> BuyerProfileImport:
    """Read the file, check that the caller may import it for this buyer and that it is
    this buyer's export, and plan every part. Writes nothing."""
    ensure(
        caller.acts_for_municipality(buyer_code),
        f"This key may not import procurements for municipality {buyer_code}.",
    )
    if not trail.buyer_exists(session, buyer_code):
        raise UnknownBuyer(buyer_code)
    profile = parse_buyer_profile(data)
    own = municipality_ico(session, buyer_code)
    stated = profile.buyer_ico
    if own is not None and stated is not None and read_ico(stated.value) != own:
        raise NotThisBuyer(
            f"The export is the profile of the buyer with IČO {stated.value} "
            f"({profile.buyer_name.value if profile.buyer_name else 'no name given'}); "
            f"municipality {buyer_code} has IČO {own}.",
            errors=[{"pointer": stated.path, "detail": "another buyer's IČO"}],
        )
    now = now or utcnow()
    today = local_date(now)
    plans = [
        plan_part(
            profile,
            part,
            buyer_code=buyer_code,
            today=today,
            subject_when_unstated=subject_when_unstated,
        )
        for part in profile.parts
    ]
    return BuyerProfileImport(
        profile=profile,
        plans=plans,
        caller=caller,
        buyer_code=buyer_code,
        ocid_prefix=ocid_prefix,
        dry_run=dry_run,
        now=now,
    )


@dataclass
class BuyerProfileImport:
    """One import of one file: its plans, and what the batches written so far did."""

    profile: BuyerProfile
    plans: list[PartPlan]
    caller: Caller
    buyer_code: str
    ocid_prefix: str
    dry_run: bool
    now: datetime
    items: list[ImportedItem] = field(default_factory=list)
    conflicts: list[ImportConflict] = field(default_factory=list)
    checkpoint_tree_size: int | None = None

    def import_all(self, session: Session) -> BuyerProfileImportReport:
        """Every part in the caller's transaction (one batch)."""
        self.import_batch(session, self.plans)
        return self.report()

    def import_batch(
        self,
        session: Session,
        plans: Sequence[PartPlan],
        progress: Callable[[int], object] | None = None,
    ) -> None:
        """Write ``plans`` in the session's transaction, in one savepoint. A part the service
        refuses (a regime its procedure does not allow, a CPV code outside the imported
        list, ...) rolls the savepoint back, and the batch is written again without it: no
        part is ever half written. A dry run rolls the savepoint back at the end."""
        refused: dict[int, str] = {}
        while True:
            items: list[ImportedItem] = []
            conflicts: list[ImportConflict] = []
            failed: tuple[int, str] | None = None
            savepoint = session.begin_nested()
            try:
                # The ledger head first: every transaction that appends takes its locks in
                # this order (the head, then procurement rows; see procurement.service).
                ledger.next_leaf_index(session)
                existing = repository.imported_procurements(session, self.buyer_code)
                for index, plan in enumerate(plans):
                    if index in refused:
                        items.append(_item(plan, refused[index]))
                        continue
                    try:
                        items.append(self._import_part(session, plan, existing, conflicts))
                    except AppError as error:
                        failed = (index, error.detail)
                        break
            except BaseException:
                savepoint.rollback()
                raise
            if failed is None:
                break
            savepoint.rollback()
            refused[failed[0]] = failed[1]
        if self.dry_run:
            savepoint.rollback()
            for item in items:
                if item.outcome == "created":
                    item.ocid = None
        else:
            savepoint.commit()
            if any(item.steps_recorded for item in items):
                checkpoint = ledger.checkpoint_now(session)
                self.checkpoint_tree_size = checkpoint.tree_size if checkpoint else None
        self.items += items
        self.conflicts += conflicts
        if progress is not None:
            progress(len(plans))

    def _import_part(
        self,
        session: Session,
        plan: PartPlan,
        existing: dict[repository.PartKey, repository.ImportedProcurement],
        conflicts: list[ImportConflict],
    ) -> ImportedItem:
        item = _item(plan, plan.skipped)
        if plan.create is None:
            return item
        created = self._write_part(session, plan, existing, item, conflicts)
        if created is not None:  # a later part with the same ids appends to it
            existing[plan.key] = created
        return item

    def _write_part(
        self,
        session: Session,
        plan: PartPlan,
        existing: dict[repository.PartKey, repository.ImportedProcurement],
        item: ImportedItem,
        conflicts: list[ImportConflict],
    ) -> repository.ImportedProcurement | None:
        """Write one part; the procurement it created, if any."""
        assert plan.create is not None
        found = existing.get(plan.key)
        created: repository.ImportedProcurement | None = None
        if found is None:
            opened = trail.create_procurement(
                session, plan.create, self.caller, ocid_prefix=self.ocid_prefix, now=self.now
            )
            assert opened.id is not None
            ocid, procedure_id, types = opened.ocid, opened.procedure, set[str]()
            before: dict[str, repository.ImportedStepFacts] = {}
            item.outcome = "created"
        else:
            ocid, procedure_id, types = found.ocid, found.procedure, set(found.step_types)
            before = repository.imported_steps(session, found.id)
            conflicts += _header_conflicts(plan, found)
            item.outcome = "unchanged"
        item.ocid = ocid
        proc = procedure(procedure_id)
        for step in plan.steps:
            known = before.get(step.key)
            if known is not None:
                differences = _differences(known.facts, step.facts())
                for member, trail_value, export_value in differences:
                    conflicts.append(
                        ImportConflict(
                            path=step.path,
                            ocid=ocid,
                            seq=known.seq,
                            step_type=known.type,
                            member=member,
                            trail=trail_value,
                            export=export_value,
                        )
                    )
                item.conflicts += len(differences)
                if not differences:
                    item.steps_unchanged += 1
                continue
            if proc.step(step.type) is None:
                continue  # the procurement's procedure differs (a header conflict says so)
            note = trail.order_problem(proc, step.type, types)
            origin: dict[str, Any] = {
                "kind": "buyer_profile",
                "file_sha256": self.profile.sha256,
                "path": step.path,
                "dated_by": step.dated_by,
                "key": step.key,
            }
            trail.record_step(
                session,
                ocid,
                step.model,
                self.caller,
                now=self.now,
                imported=trail.ImportedStep(imported_from=origin, documents=list(step.documents)),
            )
            types.add(step.type)
            item.steps_recorded += 1
            if note is not None:
                item.order_notes.append(f"{step.type}: {note}")
        item.conflicts += sum(1 for c in conflicts if c.seq is None)
        if item.outcome == "unchanged" and item.steps_recorded:
            item.outcome = "appended"
        if found is None:
            assert opened.id is not None
            created = repository.ImportedProcurement(
                id=opened.id,
                ocid=opened.ocid,
                title=opened.title,
                subject=opened.subject,
                procedure=opened.procedure,
                estimated_value_excl_vat=Decimal(opened.estimated_value_excl_vat),
                step_types=frozenset(types),
            )
        return created

    def report(self) -> BuyerProfileImportReport:
        items = self.items
        return BuyerProfileImportReport(
            buyer_code=self.buyer_code,
            file_sha256=self.profile.sha256,
            profile_code=self.profile.profile_code.value if self.profile.profile_code else None,
            structures=list(self.profile.structures),
            dry_run=self.dry_run,
            parts=len(self.plans),
            created=_count(items, "created"),
            appended=_count(items, "appended"),
            unchanged=_count(items, "unchanged"),
            skipped=_count(items, "skipped"),
            steps_recorded=sum(i.steps_recorded for i in items),
            steps_unchanged=sum(i.steps_unchanged for i in items),
            conflicts=list(self.conflicts),
            unknown_values=[
                UnknownValue(path=u.path, element=u.element, value=u.value, effect=u.effect)
                for plan in self.plans
                for u in plan.unknown
            ],
            not_recorded=[
                NotRecorded(path=n.path, fact=n.fact, reason=n.reason)
                for plan in self.plans
                if plan.create is not None
                for n in plan.not_recorded
            ],
            unreadable=[
                NotRecorded(path=path, fact="zakazka", reason=why)
                for path, why in self.profile.unreadable
            ],
            items=list(items),
            checkpoint_tree_size=self.checkpoint_tree_size,
        )


def _item(plan: PartPlan, reason: str | None) -> ImportedItem:
    """A part's item before it is written (skipped, with ``reason``, unless it is)."""
    return ImportedItem(
        path=plan.part.path,
        buyer_profile_procurement_id=plan.part.procurement_id.value,
        buyer_profile_part_id=plan.part.part_id.value if plan.part.part_id else None,
        title=plan.title,
        outcome="skipped",
        ocid=None,
        reason=reason,
    )


def _count(items: Iterable[ImportedItem], outcome: str) -> int:
    return sum(1 for i in items if i.outcome == outcome)


def _header_conflicts(
    plan: PartPlan, found: repository.ImportedProcurement
) -> list[ImportConflict]:
    """What the export now says of the procurement itself that the trail says otherwise."""
    assert plan.create is not None
    pairs: list[tuple[str, Any, Any]] = [
        ("procedure", found.procedure, plan.create.procedure),
        ("subject", found.subject, plan.create.subject),
        ("title", found.title, plan.create.title),
        (
            "estimated_value_excl_vat",
            f"{Decimal(found.estimated_value_excl_vat):.2f}",
            f"{plan.create.estimated_value_excl_vat:.2f}",
        ),
    ]
    return [
        ImportConflict(
            path=plan.part.path,
            ocid=found.ocid,
            seq=None,
            step_type=None,
            member=member,
            trail=trail_value,
            export=export_value,
        )
        for member, trail_value, export_value in pairs
        if trail_value != export_value
    ]


def _differences(trail_facts: dict[str, Any], export: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(member, trail value, export value) for each fact that differs."""
    found: list[tuple[str, Any, Any]] = []
    if trail_facts["occurred_at"] != export["occurred_at"]:
        found.append(("occurred_at", trail_facts["occurred_at"], export["occurred_at"]))
    trail_data, export_data = trail_facts["data"], export["data"]
    for name in sorted(set(trail_data) | set(export_data)):
        if trail_data.get(name) != export_data.get(name):
            found.append((f"data.{name}", trail_data.get(name), export_data.get(name)))
    if trail_facts["documents"] != export["documents"]:
        found.append(("documents", trail_facts["documents"], export["documents"]))
    return found


def plans_in_batches(plans: Sequence[PartPlan], size: int) -> Iterable[Sequence[PartPlan]]:
    for start in range(0, len(plans), size):
        yield plans[start : start + size]
