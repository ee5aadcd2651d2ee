"""Enqueueing background work by job name.

The web app never imports `workers/`: it names a job from `JobName` and passes ids
only, so Redis never holds a phone number, a name or a message body.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job


class JobName(enum.StrEnum):
    SEND_MESSAGES = "workers.jobs.send_messages"
    PROCESS_INBOUND = "workers.jobs.process_inbound"
    ROUTE_REPLIES = "workers.jobs.route_replies"
    RECONCILE = "workers.jobs.reconcile"
    ERASE_AT_PROVIDER = "workers.jobs.erase_at_provider"
    IMPORT_FILE = "workers.jobs.import_file"
    BOARD_REPORT = "workers.jobs.board_report"
    DELIVER_EVENTS = "workers.jobs.deliver_events"
    TRAIN_THEMES = "workers.jobs.train_themes"


class QueueName(enum.StrEnum):
    INBOUND = "inbound"  # replies: a patient is waiting for an answer
    SEND = "send"  # outbound messages (taken in turn with replies)
    MAINTENANCE = "maintenance"  # reconcilers and polls
    IMPORTS = "imports"  # files staff uploaded, reports they asked for: long jobs, taken last


QUEUE_FOR_JOB = {
    JobName.SEND_MESSAGES: QueueName.SEND,
    JobName.PROCESS_INBOUND: QueueName.INBOUND,
    JobName.ROUTE_REPLIES: QueueName.INBOUND,
    JobName.RECONCILE: QueueName.MAINTENANCE,
    JobName.ERASE_AT_PROVIDER: QueueName.MAINTENANCE,
    JobName.IMPORT_FILE: QueueName.IMPORTS,
    JobName.BOARD_REPORT: QueueName.IMPORTS,
    JobName.DELIVER_EVENTS: QueueName.MAINTENANCE,
    JobName.TRAIN_THEMES: QueueName.IMPORTS,
}
#: Jobs that may run longer than RQ's default of three minutes, in seconds.
JOB_TIMEOUTS = {JobName.IMPORT_FILE: 3600, JobName.BOARD_REPORT: 1800, JobName.TRAIN_THEMES: 900}

#: The order in which workers take work; replies and sends take turns at the head
#: (`workers.worker.TakingTurns`).
WORKER_QUEUES = (QueueName.INBOUND, QueueName.SEND, QueueName.MAINTENANCE, QueueName.IMPORTS)

#: The mark `JobQueue.lost_its_jobs` leaves in Redis.
EPOCH_KEY = "wesaid:epoch"
#: Where a job keeps when it was queued (`JobQueue.oldest_waiting`).
QUEUED_AT = "queued_at"
#: How long a group's mark (`JobQueue.wake`) lasts unless its job renews it: a job
#: killed at work leaves its mark, and until it lapses the group's new items queue no
#: job (nor does the sweep). The runtime sets it to the inbound stale threshold.
WAKE_SECONDS = 30.0


class JobQueue:
    """Puts jobs on RQ queues; ids in, nothing else."""

    def __init__(self, connection: Redis | Any, wake_seconds: float = WAKE_SECONDS) -> None:
        self.connection = connection
        self.wake_ms = max(1, round(wake_seconds * 1000))
        self._queues = {name: Queue(name.value, connection=connection) for name in QueueName}

    def queue(self, name: QueueName) -> Queue:
        return self._queues[name]

    def enqueue(self, job: JobName, *ids: int, queued_at: datetime | None = None) -> None:
        """Queue one job; ids must be integers (never personal data). `queued_at` as
        in `enqueue_batches`."""
        check_ids(ids)
        self._queues[QUEUE_FOR_JOB[job]].enqueue(
            job.value,
            *ids,
            result_ttl=0,
            job_timeout=JOB_TIMEOUTS.get(job),
            meta={QUEUED_AT: queued_at.isoformat()} if queued_at is not None else None,
        )

    def wake(self, job: JobName, group: int) -> bool:
        """Queue `job(group)` unless one is already queued or at work: many items (a
        burst of replies), one job, which takes all of its group's waiting work.

        A mark in Redis says a job of the group is queued or at work; it lasts
        `wake_seconds` unless the job renews it (`keep_awake`): a job that waits
        longer in a long queue may get a twin, which finds its group's work done. The
        job takes the mark away (`let_sleep`) before it looks for work a last time, so
        an item stored after that look queues a new job. True if this call queued one."""
        key = _wake_key(job, group)
        if not self.connection.set(key, "1", nx=True, px=self.wake_ms):
            return False
        try:
            self.enqueue(job, group)
        except Exception:
            with contextlib.suppress(Exception):  # else it lapses; the sweep queues the rest
                self.connection.delete(key)
            raise
        return True

    def keep_awake(self, job: JobName, group: int) -> None:
        """The job of `group` is at work (or has queued the job that goes on with it):
        its mark lasts another `wake_seconds` (and is made again if Redis lost it)."""
        self.connection.set(_wake_key(job, group), "1", px=self.wake_ms)

    def let_sleep(self, job: JobName, group: int) -> None:
        """The job of `group` is about to look for work a last time: from now on, new
        work queues a new job."""
        self.connection.delete(_wake_key(job, group))

    def lost_its_jobs(self) -> bool:
        """True when Redis no longer holds the mark an earlier call left there: it was
        restarted without persistence, flushed or replaced (or this is the first call
        ever), so jobs queued before may be gone. Leaves the mark for the next call."""
        return bool(self.connection.set(EPOCH_KEY, "1", nx=True))

    def enqueue_batches(
        self,
        job: JobName,
        ids: Iterable[int],
        size: int = 25,
        queued_at: datetime | None = None,
    ) -> int:
        """Queue `job` over `ids` in batches of at most `size` ids each, in one round trip.

        Returns how many ids were queued. Each id in a batch is still handled on its own
        (its own compare-and-set), so a batch that dies half-way loses nothing.
        `queued_at` (the caller's clock) is kept with each job, for `oldest_waiting`.
        """
        id_list = list(ids)
        check_ids(id_list)
        if not id_list:
            return 0
        queue = self._queues[QUEUE_FOR_JOB[job]]
        meta = {QUEUED_AT: queued_at.isoformat()} if queued_at is not None else None
        batches = [tuple(id_list[i : i + size]) for i in range(0, len(id_list), size)]
        queue.enqueue_many(
            [Queue.prepare_data(job.value, args=b, result_ttl=0, meta=meta) for b in batches]
        )
        return len(id_list)

    def oldest_waiting(self, job: JobName) -> datetime | None:
        """When the job at the head of `job`'s queue was queued, as its caller's clock
        gave it to `enqueue_batches`; None if the queue is empty or its head has no such
        time. A queue is first in, first out: any job queued before that moment has
        left the queue, taken by a worker (or lost with it)."""
        queue = self._queues[QUEUE_FOR_JOB[job]]
        head = queue.get_job_ids(0, 1)
        if not head:
            return None
        try:
            stamp = Job.fetch(head[0], connection=self.connection).meta.get(QUEUED_AT)
        except NoSuchJobError:
            return None
        return datetime.fromisoformat(stamp) if isinstance(stamp, str) else None

    def waiting_ids(self, job: JobName) -> set[int]:
        """The ids carried by the jobs `job` still waiting in its queue (not those a
        worker has taken). Reads every job of the queue: for short queues (imports)."""
        queue = self._queues[QUEUE_FOR_JOB[job]]
        found: set[int] = set()
        for waiting in Job.fetch_many(queue.get_job_ids(), connection=self.connection):
            if waiting is not None and waiting.func_name == job.value:
                found.update(arg for arg in waiting.args if isinstance(arg, int))
        return found


def _wake_key(job: JobName, group: int) -> str:
    return f"wesaid:wake:{job.name.lower()}:{group}"


def check_ids(ids: Iterable[int]) -> None:
    """Raise TypeError unless every one of `ids` is an integer id (never personal data)."""
    for value in ids:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("job arguments must be integer ids")


def connect(redis_url: str | None) -> Any:
    """A Redis connection: the real server, or an in-process fake when no URL is set."""
    if redis_url:
        return Redis.from_url(redis_url)
    import fakeredis  # the embedded default: only needed when no Redis is configured

    return fakeredis.FakeRedis(server=fakeredis.FakeServer())
