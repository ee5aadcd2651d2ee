"""The demo shares each round's jobs out between its two processes by groups of patients:
a patient's ids stay together and in order, and the processes get about as much to do."""

from __future__ import annotations

from collections import Counter

from app.demo.shards import WEIGHTS, HeldJob, share_out
from app.queueing import JobName

SEND = JobName.SEND_MESSAGES.value
ROUTE = JobName.PROCESS_INBOUND.value


def _owners(parts: list[list[tuple[str, tuple[int, ...]]]]) -> dict[int, int]:
    return {item: share for share, jobs in enumerate(parts) for _, ids in jobs for item in ids}


def test_each_group_goes_whole_to_one_process_and_keeps_its_order() -> None:
    # ids 1-12, in groups by id % 4; two jobs, the second after the first
    held: list[HeldJob] = [
        (SEND, tuple((item, item % 4) for item in range(1, 9))),
        (ROUTE, tuple((item, item % 4) for item in range(9, 13))),
    ]
    parts = share_out(held, 2)
    owners = _owners(parts)
    assert sorted(owners) == list(range(1, 13))  # nothing lost, nothing twice
    for group in range(4):
        assert len({owners[item] for item in range(1, 13) if item % 4 == group}) == 1
    for jobs in parts:
        # each process's part of a job keeps the ids in order, its jobs in held order
        assert [name for name, _ in jobs] == sorted(
            (name for name, _ in jobs), key=[SEND, ROUTE].index
        )
        for _, ids in jobs:
            assert list(ids) == sorted(ids)


def test_the_processes_get_about_as_much_to_do() -> None:
    # group 0: 6 sends; group 1: 2 replies (weight 3 each); groups 2 and 3: one send each
    held: list[HeldJob] = [
        (SEND, (*((item, 0) for item in range(6)), (6, 2), (7, 3))),
        (ROUTE, ((8, 1), (9, 1))),
    ]
    parts = share_out(held, 2)
    load: Counter[int] = Counter()
    for share, jobs in enumerate(parts):
        for name, ids in jobs:
            load[share] += WEIGHTS[name] * len(ids)
    assert sorted(load.values()) == [7, 7]
    assert share_out(held, 2) == parts  # the same round is always shared out the same way


def test_one_process_gets_everything_when_there_is_one_group() -> None:
    held: list[HeldJob] = [(ROUTE, ((1, 5), (2, 5)))]
    assert share_out(held, 2) == [[(ROUTE, (1, 2))], []]
