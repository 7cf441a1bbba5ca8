"""Group commit: the hot write path's work runs on one thread, several requests per commit.

A route hands :meth:`WriteQueue.run` a function of a session (it calls a service, which
flushes but never commits) and awaits its result. One writer thread per process takes
the jobs that are waiting, runs them one after another in one transaction and commits
once, then answers each. A request is answered only after the commit that holds its
writes, so no acknowledged write can be lost; an error in a commit is every job's error.

Each batch is one ``session_scope`` block: its end (``api.db.commit``) first seals the
ledger's checkpoint for the tree the batch leaves (the appends registered it), so every
answered append is covered by a signed checkpoint.

Why: each append takes the ledger head lock from its first statement to its commit. With
one transaction per request that lock was held across thread hops and the event loop's
latency, and every append paid its own BEGIN, COMMIT and fsync. Here the writer holds it
only while it works, and a batch pays them once (measured in ``bench/bench_ledger.py``).

A job that raises is answered with its error and leaves nothing behind: the transaction
is rolled back and the jobs before it are run again in a fresh one, so a failed job can
never leave half its writes in a commit, whatever the point it failed at.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlmodel import Session

from api.db import Database, session_scope

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _Job:
    work: Callable[[Session], Any]
    future: Future[Any] = field(default_factory=Future)


class WriteQueue:
    """One writer thread for this process; ``max_batch`` jobs at most per transaction."""

    def __init__(
        self,
        database: Database,
        *,
        max_batch: int = 64,
        idle_seconds: float = 0,
        on_idle: Callable[[Session], object] | None = None,
    ) -> None:
        """``on_idle`` runs in a transaction of its own once the queue has been quiet for
        ``idle_seconds`` after a commit (the ledger signs a tail the cadence left unsigned)."""
        self._database = database
        self._max_batch = max_batch
        self._idle_seconds = idle_seconds
        self._on_idle = on_idle if idle_seconds > 0 else None
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in the next transaction; return once it is committed."""
        result: T = await asyncio.wrap_future(self.submit(work))
        return result

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        """Queue ``work``; its future is done once the commit that holds it is done."""
        job = _Job(work)
        self._ensure_started()
        self._jobs.put(job)
        return job.future

    def stop(self) -> None:
        """Finish the jobs already queued, then end the writer thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join()

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="smartsteps-writer", daemon=True
                )
                self._thread.start()

    def _serve(self) -> None:
        stopping = False
        owed = False  # something was committed since on_idle last ran
        while not stopping:
            try:
                first = self._jobs.get(timeout=self._idle_seconds if owed else None)
            except queue.Empty:
                owed = False
                self._idle()
                continue
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                batch.append(job)
            # A job whose request was cancelled before it started is dropped.
            batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
            owed = self._on_idle is not None
            try:
                self._commit(batch)
            except BaseException as error:  # the writer must outlive any one batch
                logger.exception("a group commit of %d writes failed", len(batch))
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(error)

    def _idle(self) -> None:
        assert self._on_idle is not None
        try:
            with session_scope(self._database, write=True) as session:
                self._on_idle(session)
        except Exception:
            logger.exception("the write queue's idle work failed")

    def _commit(self, batch: list[_Job]) -> None:
        while batch:
            results: list[Any] = []
            try:
                # The block's end seals the ledger's checkpoint for the tree the batch leaves
                # (api.db.commit runs what the transaction owes), then commits; a failed
                # commit fails every job of the batch.
                with session_scope(self._database, write=True) as session:
                    for position, job in enumerate(batch):
                        try:
                            results.append(job.work(session))
                        except Exception as error:
                            raise _JobFailed(position, error) from error
            except _JobFailed as failed:
                # Answer the failed job; run the others again without it.
                batch[failed.position].future.set_exception(failed.error)
                del batch[failed.position]
                continue
            for job, result in zip(batch, results, strict=True):
                job.future.set_result(result)
            return


class _JobFailed(Exception):
    """A job of the batch raised: the batch's transaction is rolled back."""

    def __init__(self, position: int, error: Exception) -> None:
        super().__init__(position, error)
        self.position = position
        self.error = error


async def _write_queue(request: Request) -> WriteQueue:  # async: no thread hop
    queue_: WriteQueue = request.app.state.write_queue
    return queue_


WriteQueueDep = Annotated[WriteQueue, Depends(_write_queue)]
