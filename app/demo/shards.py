"""The demo's jobs on two cores: its patients in groups, each group's jobs in one process.

Every job the month queues (messages to send, replies to route) carries ids of one kind,
each of one patient's number. The demo's queue keeps these jobs itself instead of
handing them to Redis. At each round it shares the patients' groups (by number) out
between this process and a worker process of its own, so that both have about as much
to do, and splits each job by the process its patients' groups went to. Both processes
run their jobs at once, as an RQ worker would take them from its queues (the replies'
queue first, each queue in order), calling the jobs' own functions: none of RQ's
bookkeeping, which costs more than many of the jobs.

A patient's ids of a round are all in one process, in the order they were queued, and
two of them share a job exactly when they would have shared it on one queue, so each
patient's messages and replies are handled as on one worker. Only how two patients' jobs
interleave differs from run to run, which the month does not depend on (the web
processes already take different patients' webhooks in any order).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from sqlalchemy import select

from app import create_app
from app.core.clock import SharedClock
from app.extensions import db
from app.messaging.models import InboundMessage, OutboundMessage
from app.messaging.states import InboundState
from app.patients.models import Patient
from app.queueing import QUEUE_FOR_JOB, WORKER_QUEUES, JobName, JobQueue, check_ids, connect
from workers import jobs
from workers.worker import bind

log = logging.getLogger(__name__)

#: How many processes run the jobs: one per core.
SHARDS = 2
#: The jobs kept out of Redis and split, and what runs them.
SHARDED: dict[JobName, Callable[..., object]] = {
    JobName.SEND_MESSAGES: jobs.send_messages,
    JobName.PROCESS_INBOUND: jobs.process_inbound,
}

#: One job: its name and its ids.
Batch = tuple[str, tuple[int, ...]]


#: How many groups the patients are in, by number; each round hands whole groups to
#: the processes, so that a patient's jobs stay in one.
GROUPS = 64


def group_of(number: str) -> int:
    """The group of a patient's number: the same on every run."""
    return zlib.crc32(number.encode()) % GROUPS


#: What a job costs for each of its ids, roughly, against a message sent: a reply is
#: routed and its answer sent.
WEIGHTS = {JobName.SEND_MESSAGES.value: 1, JobName.PROCESS_INBOUND.value: 3}

#: A job held for a round: its name and its ids, each with its patient's group.
HeldJob = tuple[str, tuple[tuple[int, int], ...]]


def share_out(held: list[HeldJob], shares: int = SHARDS) -> list[list[Batch]]:
    """The held jobs shared out among `shares` processes: each group of patients to one
    of them, the largest groups first to the one with the least to do; each process's
    part of a job keeps its ids in order, and its jobs keep the order they were held in.
    The same jobs are always shared out the same way."""
    load: Counter[int] = Counter()
    for name, items in held:
        for _item, group in items:
            load[group] += WEIGHTS.get(name, 1)
    given = [0] * shares
    owner: dict[int, int] = {}
    for group, weight in sorted(load.items(), key=lambda pair: (-pair[1], pair[0])):
        share = min(range(shares), key=lambda index: (given[index], index))
        owner[group] = share
        given[share] += weight
    parts: list[list[Batch]] = [[] for _ in range(shares)]
    for name, items in held:
        split: list[list[int]] = [[] for _ in range(shares)]
        for item, group in items:
            split[owner[group]].append(item)
        for share, mine in enumerate(split):
            if mine:
                parts[share].append((name, tuple(mine)))
    return parts


def run_jobs(batches: list[Batch]) -> None:
    """Run the jobs as one RQ worker would take them from its queues: a queue before
    the ones after it (`WORKER_QUEUES`), each in the order its jobs were queued. A job
    that fails is logged and the others still run, as with RQ."""
    rank = {name: WORKER_QUEUES.index(queue) for name, queue in QUEUE_FOR_JOB.items()}
    for name, ids in sorted(batches, key=lambda batch: rank[JobName(batch[0])]):
        try:
            SHARDED[JobName(name)](*ids)
        except Exception:
            log.exception("demo job %s failed", name)


def _numbers(job: JobName, ids: list[int]) -> dict[int, str]:
    if job is JobName.SEND_MESSAGES:
        query = (
            select(OutboundMessage.id, Patient.phone)
            .join(Patient, Patient.id == OutboundMessage.patient_id)
            .where(OutboundMessage.id.in_(ids))
        )
    else:
        query = select(InboundMessage.id, InboundMessage.from_number).where(
            InboundMessage.id.in_(ids)
        )
    return {row[0]: row[1] or "" for row in db.session.execute(query)}


class ShardedQueue(JobQueue):
    """The demo's job queue: it keeps the sharded jobs until `take` shares them out among
    the processes; other jobs go to Redis as usual. Needs an app context to hold."""

    def __init__(self, connection: Any, shards: int = SHARDS) -> None:
        super().__init__(connection)
        self.shards = shards
        #: The jobs held, in the order they were queued.
        self.held: list[HeldJob] = []
        #: False once the month is over: every job goes to Redis, for the worker.
        self.sharding = True
        #: Whether any job has gone to Redis (none does in the month).
        self.used_redis = False

    def enqueue(self, job: JobName, *ids: int, queued_at: datetime | None = None) -> None:
        if self.sharding and job in SHARDED:
            self.enqueue_batches(job, ids, size=max(1, len(ids)))
        else:
            self.used_redis = True
            super().enqueue(job, *ids, queued_at=queued_at)

    def enqueue_batches(
        self,
        job: JobName,
        ids: Iterable[int],
        size: int = 25,
        queued_at: datetime | None = None,
    ) -> int:
        id_list = list(ids)
        if not self.sharding or job not in SHARDED:
            self.used_redis = self.used_redis or bool(id_list)
            return super().enqueue_batches(job, id_list, size, queued_at)
        check_ids(id_list)
        numbers = _numbers(job, id_list) if id_list else {}
        self.hold(job, [(item, numbers.get(item, "")) for item in id_list], size)
        return len(id_list)

    def hold(self, job: JobName, items: list[tuple[int, str]], size: int) -> None:
        """Keep `job` over the ids of `items` (each with its patient's number), in
        batches of `size`: a patient's ids that would have shared a job on one queue
        still do, and those that would not still do not."""
        for start in range(0, len(items), size):
            batch = items[start : start + size]
            self.held.append((job.value, tuple((item, group_of(number)) for item, number in batch)))

    def holds(self) -> bool:
        return bool(self.held)

    def take(self) -> list[list[Batch]]:
        """Each process's part of the jobs held (`share_out`), handed over: the queue
        keeps none of them."""
        taken, self.held = self.held, []
        return share_out(taken, self.shards)


def queue_new_replies(queue: ShardedQueue, after: int) -> int:
    """Queue the replies the web processes stored (with ids above `after`), which no
    queue holds (theirs queue nothing), as the clock's sweep queues replies whose jobs
    Redis lost; returns the last id seen. A reply whose job fails is left to the sweep.

    They are queued in the order they came, in batches that hold one reply of each
    patient at most: a patient's second reply of a round is routed after the answers
    to the first went, as it would be with a job for each reply.
    """
    rows = db.session.execute(
        select(InboundMessage.id, InboundMessage.from_number)
        .where(InboundMessage.id > after, InboundMessage.state == InboundState.RECEIVED)
        .order_by(InboundMessage.id)
    ).all()
    waves: list[list[tuple[int, str]]] = []
    seen: Counter[str] = Counter()
    for row in rows:
        nth = seen[row.from_number]
        seen[row.from_number] += 1
        if nth == len(waves):
            waves.append([])
        waves[nth].append((row.id, row.from_number))
    for wave in waves:
        queue.hold(JobName.PROCESS_INBOUND, wave, 25)
    return max((row.id for row in rows), default=after)


def _work(
    conn: Connection,
    now: Synchronized,  # type: ignore[type-arg]
    settings: dict[str, Any],
) -> None:
    # Ctrl-C is the demo's to handle: it stops this process with the others.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        own = {"CLOCK": SharedClock(now), "JOB_QUEUE": JobQueue(connect(None))}
        bind(create_app(settings | own))
    except Exception as exc:
        conn.send(f"{type(exc).__name__}: {exc}")
        raise
    conn.send(None)
    while True:
        batches: list[Batch] | None = conn.recv()
        if batches is None:
            return
        run_jobs(batches)
        conn.send(len(batches))


class ShardWorkers:
    """A worker process for each shard but the first (which is the demo's own). They
    are forked: start them before this process opens a database connection or starts
    a thread."""

    def __init__(
        self,
        now: Synchronized,  # type: ignore[type-arg]
        settings: dict[str, Any],
        shards: int = SHARDS,
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._processes: list[BaseProcess] = []
        self._conns: list[Connection] = []
        for shard in range(1, shards):
            parent, child = context.Pipe()
            process = context.Process(
                target=_work, args=(child, now, settings), name=f"demo-worker-{shard}", daemon=True
            )
            process.start()
            child.close()
            self._processes.append(process)
            self._conns.append(parent)

    def wait_ready(self) -> None:
        """Block until every process has its app; raise if one could not build it."""
        for conn in self._conns:
            try:
                failure = conn.recv()
            except EOFError:
                failure = "it exited while starting"
            if failure is not None:
                raise RuntimeError(f"a worker process of the demo did not start: {failure}")

    def run(self, held: list[list[Batch]]) -> None:
        """Run each shard's jobs: the first here, the others in their processes, all at
        once; return when every one has finished."""
        started = []
        for conn, mine in zip(self._conns, held[1:], strict=True):
            if mine:
                conn.send(mine)
                started.append(conn)
        try:
            run_jobs(held[0])
        finally:
            for conn in started:
                try:
                    conn.recv()
                except EOFError:
                    raise RuntimeError("a worker process of the demo stopped") from None

    def stop(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.send(None)
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
        self._processes, self._conns = [], []
