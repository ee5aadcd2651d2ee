"""The simulator's scheduler and dice: keyed, held and repeatable."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from app.simulator.delivery import Dice, Scheduler
from app.simulator.draws import Occurrences, keyed_rng


@pytest.fixture
def held() -> Iterator[Scheduler]:
    scheduler = Scheduler(4, held=True)
    scheduler.start()
    yield scheduler
    scheduler.stop()


def _recorder(log: list[str], name: str) -> Callable[[], None]:
    def record() -> None:
        log.append(name)

    return record


def test_a_held_scheduler_runs_nothing_until_it_is_flushed(held: Scheduler) -> None:
    ran = threading.Event()
    held.after(0.0, ran.set, key="+447400000001")
    assert not ran.wait(0.2)
    assert held.flush(timeout=5)
    assert ran.is_set()


def test_a_flush_runs_what_actions_schedule_and_then_holds_again(held: Scheduler) -> None:
    log: list[str] = []

    def parent() -> None:
        log.append("parent")
        held.after(0.5, _recorder(log, "child"), key="a")

    held.after(0.0, parent, key="a")
    assert held.flush(timeout=5)
    assert log == ["parent", "child"]
    later = threading.Event()
    held.after(0.0, later.set, key="a")
    assert not later.wait(0.2)
    assert held.flush(timeout=5)
    assert later.is_set()


def test_held_actions_of_one_key_run_in_simulated_time_order(held: Scheduler) -> None:
    log: list[str] = []

    def first() -> None:
        log.append("first")
        # Due at 0.01 + 0.005: before "late", which was scheduled earlier.
        held.after(0.005, _recorder(log, "reply"), key="a")

    held.after(0.03, _recorder(log, "late"), key="a")
    held.after(0.01, first, key="a")
    held.after(0.02, _recorder(log, "middle"), key="a")
    assert held.flush(timeout=5)
    assert log == ["first", "reply", "middle", "late"]


def test_actions_of_one_key_never_overlap(held: Scheduler) -> None:
    second_started = threading.Event()
    overlapped: list[bool] = []

    def first() -> None:
        overlapped.append(second_started.wait(0.3))

    held.after(0.0, first, key="a")
    held.after(0.0, second_started.set, key="a")
    assert held.flush(timeout=5)
    assert overlapped == [False]
    assert second_started.is_set()


def test_actions_of_different_keys_overlap(held: Scheduler) -> None:
    other_ran = threading.Event()
    saw_other: list[bool] = []

    def waiting() -> None:
        saw_other.append(other_ran.wait(5))

    held.after(0.0, waiting, key="a")
    held.after(0.01, other_ran.set, key="b")
    assert held.flush(timeout=10)
    assert saw_other == [True]


def test_a_flush_that_times_out_leaves_the_rest_held(held: Scheduler) -> None:
    release = threading.Event()
    log: list[str] = []

    def slow() -> None:
        release.wait(5)
        log.append("slow")

    held.after(0.0, slow, key="a")
    held.after(0.1, _recorder(log, "next"), key="a")
    assert not held.flush(timeout=0.1)
    release.set()
    assert held.flush(timeout=5)
    assert log == ["slow", "next"]


def test_keys_are_kept_apart_in_real_time_too() -> None:
    scheduler = Scheduler(3)
    scheduler.start()
    try:
        second_started = threading.Event()
        overlapped: list[bool] = []
        scheduler.after(0.0, lambda: overlapped.append(second_started.wait(0.3)), key="a")
        scheduler.after(0.0, second_started.set, key="a")
        log: list[str] = []
        for name, delay in (("b2", 0.02), ("b1", 0.01)):
            scheduler.after(delay, _recorder(log, name), key="b")
        assert scheduler.flush(timeout=5)
        assert overlapped == [False]
        assert log == ["b1", "b2"]
    finally:
        scheduler.stop()


def test_unkeyed_actions_still_run_in_due_order() -> None:
    scheduler = Scheduler()
    scheduler.start()
    try:
        log: list[str] = []
        for name, delay in (("c", 0.03), ("a", 0.0), ("b", 0.01)):
            scheduler.after(delay, _recorder(log, name))
        assert scheduler.flush(timeout=5)
        assert log == ["a", "b", "c"]
    finally:
        scheduler.stop()


def test_dice_draws_depend_on_the_event_not_on_the_order() -> None:
    events = [("out", f"+4474000000{i:02d}", "body", "0") for i in range(50)]
    forward, backward = Dice(7), Dice(7)
    ahead = [forward.uniform((0.0, 1.0), *e) for e in events]
    behind = [backward.uniform((0.0, 1.0), *e) for e in reversed(events)][::-1]
    assert ahead == behind
    assert len(set(ahead)) == len(ahead)
    assert ahead != [Dice(8).uniform((0.0, 1.0), *e) for e in events]
    assert not Dice(7).chance(0.0, "any")
    assert all(Dice(7).chance(1.0, *e) for e in events)
    items, again = list(range(10)), list(range(10))
    Dice(7).shuffle(items, "reorder")
    Dice(7).shuffle(again, "reorder")
    assert items == again


def test_occurrences_count_each_identity_apart() -> None:
    seen = Occurrences()
    assert [seen.next("a"), seen.next("b"), seen.next("a"), seen.next("a", "x")] == [
        "0",
        "0",
        "1",
        "0",
    ]
    assert keyed_rng(1, "a", "0").random() == keyed_rng(1, "a", "0").random()
    assert keyed_rng(1, "a", "0").random() != keyed_rng(1, "a", "1").random()
