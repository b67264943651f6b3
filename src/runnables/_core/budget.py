"""`Budget`: the `max_concurrency` slots shared by every leaf call below the call they were
given to, from threads, tasks and event loops alike.

A leaf holds a slot while its code runs. When that code calls runnables (a function step
calling `inner.batch(...)`), they share the same budget, and the leaf lends them its slot: one
of them at a time may run on it, the others take slots of their own or wait for either. So a
function waiting on the runnables it called holds no slot they need (nesting never deadlocks,
even at `max_concurrency=1`), while every leaf call anywhere below, however deeply nested,
counts against the one limit. The lent slot is given back when both the leaf's code and the
borrower are done.

A leaf stream holds its slot until it ends, idle whenever it waits at a `yield`; the code of
a stream consumer it feeds (a `RunnableGenerator` in a streamed chain) borrows it then, the
same way (see `leaf.Feed`, `opened`). Such a borrower is `fed`: it may run on the slot only
while the stream's own code does not (`running`, between `step_in` and `step_out`), and a step
waits for it to give the slot back (as when one stream feeds several consumers at once).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from runnables._core.loop import LoopHandle, Wakeup, current_loop

__all__ = ["Budget", "Slot"]

W = TypeVar("W", bound="_Waiter")


class Slot:
    """One leaf call's slot: taken from `budget`, or borrowed from `lender` (the slot of the
    leaf whose code made this call, when it is free); lent in turn to the runnables this
    leaf's code calls. State changes under the lock of the budget the slot belongs to."""

    __slots__ = (
        "borrowed",
        "budget",
        "done",
        "fed",
        "free",
        "lender",
        "paused",
        "running",
        "stepper",
    )

    def __init__(self, budget: Budget, lender: Slot | None, *, fed: bool = False) -> None:
        self.budget = budget
        self.lender = lender
        self.borrowed = False  # this call runs on `lender`'s slot
        self.free = True  # nobody runs on this slot but its own leaf
        self.done = False  # its leaf has returned
        #: `lender` is a stream feeding this call's code (not the caller of that code): it may
        #: be borrowed only while the stream's own code is not `running`.
        self.fed = fed
        self.running = False  # a stream's own code runs a step (see `Budget.step_in`)
        self.paused = False  # a consumer's, waiting for its input: see `Budget.pause`
        self.stepper: _Waiter | None = None  # its stream, waiting to take it back for a step


class _Waiter:
    """One caller waiting for a slot of the budget, or for `lender`; `granted` (and
    `via_lender`) are set under the budget's lock when a releasing caller hands its slot
    over, then `wake` is called."""

    __slots__ = ("fed", "granted", "lender", "via_lender")

    def __init__(self) -> None:
        self.granted = False
        self.lender: Slot | None = None
        self.via_lender = False
        self.fed = False  # may borrow `lender` only while its stream is paused

    def wake(self) -> bool:
        """Wake the waiter; False if it can no longer be woken (its event loop has ended)."""
        raise NotImplementedError


class _ThreadWaiter(_Waiter):
    __slots__ = ("lock",)

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.lock.acquire()

    def wake(self) -> bool:
        self.lock.release()
        return True


class _TaskWaiter(_Waiter):
    __slots__ = ("loop", "wakeup")

    def __init__(self) -> None:
        super().__init__()
        self.loop: LoopHandle = current_loop()
        self.wakeup: Wakeup = self.loop.wakeup()

    def wake(self) -> bool:
        if self.loop.is_current():
            self.wakeup.wake()
            return True
        return self.loop.call_soon(self.wakeup.wake)


#: The lender a stream consumer waits for when it waits for any stream's slot.
_ANY_STREAM = Slot.__new__(Slot)
_ANY_STREAM.free = False
_ANY_STREAM.done = True


class Budget:
    """`max_concurrency` slots shared by every leaf call below the call they were given to.

    Only leaves hold a slot, so nesting never deadlocks; a budget nested inside another takes
    a slot of its parent too. Used as `with budget:` from threads and `async with budget:`
    from tasks, on any event loop: it belongs to none. Waiters are served in arrival order;
    a released slot is handed straight to the first waiter, which is woken on its own thread
    or event loop (no polling).
    """

    __slots__ = ("_free", "_lock", "_streams", "_waiters", "limit", "parent")

    def __init__(self, limit: int, parent: Budget | None = None) -> None:
        self.limit = limit
        self.parent = parent
        self._free = limit
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()
        self._streams: list[Slot] = []  # see `opened`

    def __repr__(self) -> str:
        return f"Budget(limit={self.limit}, free={self._free}, waiting={len(self._waiters)})"

    # -- one budget's own slots

    def _give(self) -> None:
        while True:
            with self._lock:
                if not self._waiters:
                    self._free += 1
                    return
                waiter = self._waiters.popleft()
                waiter.granted = True
            if waiter.wake():
                return
            # Its event loop has ended: nobody will use the slot, so pass it on.

    def _claim(self) -> bool:
        """Take a slot if one is free and nobody waits for one (arrival order); the caller
        holds the lock."""
        if self._free and not self._waiters:
            self._free -= 1
            return True
        return False

    def _borrow(self, lender: Slot, fed: bool) -> bool:
        """Borrow `lender` (a slot of this budget) if it is free."""
        with self._lock:
            if lender.free and not (fed and lender.running):
                lender.free = False
                return True
            return False

    def _take_or_queue(
        self, make_waiter: Callable[[], W], lender: Slot | None, fed: bool = False
    ) -> W | bool:
        """Take `lender` (True) or a slot (False) now, or queue a waiter for either."""
        with self._lock:
            if lender is not None and lender.free and not (fed and lender.running):
                lender.free = False
                return True
            if self._claim():
                return False
            waiter = make_waiter()
            waiter.lender = lender
            waiter.fed = fed
            self._waiters.append(waiter)
            return waiter

    def _wait_blocking(self, lender: Slot | None, fed: bool) -> bool:
        """Wait for a slot or `lender`; True if it is `lender`."""
        waiter = self._take_or_queue(_ThreadWaiter, lender, fed)
        if isinstance(waiter, bool):
            return waiter
        try:
            waiter.lock.acquire()
        except BaseException:
            self._abandon(waiter)
            raise
        return waiter.via_lender

    async def _wait(self, lender: Slot | None, fed: bool) -> bool:
        """Wait for a slot or `lender`; True if it is `lender`."""
        waiter = self._take_or_queue(_TaskWaiter, lender, fed)
        if isinstance(waiter, bool):
            return waiter
        try:
            await waiter.wakeup.wait()
        except BaseException:
            self._abandon(waiter)
            raise
        return waiter.via_lender

    def _abandon(self, waiter: _Waiter) -> None:
        """A waiter gives up (cancelled): leave the queue, or pass on what it was granted."""
        with self._lock:
            if not waiter.granted:
                self._waiters.remove(waiter)
                return
        if waiter.via_lender:
            assert waiter.lender is not None
            self._give_back(waiter.lender)
        else:
            self._give()

    def _give_back(self, lender: Slot) -> None:
        """A borrower is done with `lender`: hand it to its own stream waiting to step, or to
        a waiter that may borrow it, else free it for its leaf's callees, or give it back if
        that leaf has returned."""
        while True:
            with self._lock:
                if lender.done:
                    break
                waiter = lender.stepper
                if waiter is not None:
                    lender.stepper = None
                    lender.free = lender.running = waiter.granted = True
                else:
                    waiter = self._borrower(lender)
                    if waiter is None:
                        lender.free = True
                        return
                    self._waiters.remove(waiter)
                    waiter.granted = waiter.via_lender = True
            if waiter.wake():
                return
            if waiter.lender is None:  # the stepper's loop has ended
                with self._lock:
                    lender.running = False
                    lender.free = False
        self.release(lender)

    def _borrower(self, lender: Slot) -> _Waiter | None:
        """The first waiter that may borrow `lender` now; the caller holds the lock."""
        running = lender.running
        for waiter in self._waiters:
            if waiter.lender is lender and not (running and waiter.fed):
                return waiter
        return None

    # -- the slots of this budget and every parent
    #
    # `slot` (optional) is the leaf call acquiring: where its lender's budget is reached, the
    # lender (free, or freed first) stands for a slot of that budget and of every parent. A
    # waiter takes the parents' slots before its own, at every level, so no two waiters can
    # each hold what the other waits for.

    def _lender_here(self, slot: Slot | None) -> Slot | None:
        lender = None if slot is None else slot.lender
        return lender if lender is not None and lender.budget is self else None

    def try_acquire(self, slot: Slot | None = None) -> bool:
        """Take a slot if one is free right now (and one of each parent budget), else none."""
        lender = self._lender_here(slot)
        if lender is not None:
            assert slot is not None
            if self._borrow(lender, slot.fed):
                assert slot is not None
                slot.borrowed = True
                return True
            slot = None
        if self.parent is not None and not self.parent.try_acquire(slot):
            return False
        with self._lock:
            if self._claim():
                return True
        if self.parent is not None:
            self.parent.release(slot)
        return False

    def acquire_blocking(self, slot: Slot | None = None) -> None:
        """Take a slot (and one of each parent budget), blocking this thread until one is free."""
        lender = self._lender_here(slot)
        fed = slot is not None and slot.fed
        if lender is not None and self._borrow(lender, fed):
            assert slot is not None
            slot.borrowed = True
            return
        above = None if lender is not None else slot
        if self.parent is not None:
            self.parent.acquire_blocking(above)
        try:
            borrowed = self._wait_blocking(lender, fed)
        except BaseException:
            if self.parent is not None:
                self.parent.release(above)
            raise
        self._took(slot, borrowed)

    async def acquire(self, slot: Slot | None = None) -> None:
        """Take a slot (and one of each parent budget), waiting without blocking the event
        loop; cancellable while waiting."""
        if self.try_acquire(slot):
            return
        lender = self._lender_here(slot)
        above = None if lender is not None else slot
        if self.parent is not None:
            await self.parent.acquire(above)
        try:
            borrowed = await self._wait(lender, slot is not None and slot.fed)
        except BaseException:
            if self.parent is not None:
                self.parent.release(above)
            raise
        self._took(slot, borrowed)

    def _took(self, slot: Slot | None, borrowed: bool) -> None:
        """After waiting here: the lender covers the parents' slots, taken while waiting."""
        if borrowed:
            assert slot is not None
            slot.borrowed = True
            if self.parent is not None:
                self.parent.release()

    def end(self, slot: Slot) -> None:
        """The leaf of `slot` has returned: give the slot back, or let its borrower do so."""
        with self._lock:
            slot.done = True
            if not slot.free:
                return
            slot.free = False
            if not slot.borrowed and self.parent is None and not self._waiters:
                self._free += 1  # `release`, in the common case, under this one lock
                return
        self.release(slot)

    def release(self, slot: Slot | None = None) -> None:
        """Give back a slot (and the parents' slots) taken by any of the acquire methods."""
        budget: Budget | None = self
        while budget is not None:
            lender = None if slot is None or not slot.borrowed else slot.lender
            if lender is not None and lender.budget is budget:
                assert slot is not None
                slot.borrowed = False
                budget._give_back(lender)
                return
            budget._give()
            budget = budget.parent

    # -- leaf streams, whose slots are idle while they are paused at a `yield`

    def opened(self, slot: Slot) -> None:
        """Note the slot of a leaf stream that has just opened (see `paused`), and lend it to
        a stream consumer waiting for any (see `acquire_or_stream`)."""
        with self._lock:
            streams = self._streams
            if len(streams) > 4:
                streams[:] = [s for s in streams if not s.done]
            streams.append(slot)
            if not slot.free or slot.running or not self._waiters:
                return
            waiter = self._lend(slot, lambda w: w.lender is _ANY_STREAM)
        if waiter is not None and not waiter.wake():
            self._give_back(slot)

    def step_in_blocking(self, slot: Slot) -> None:
        """The stream holding `slot` runs its own code (a step, up to its next `yield`):
        take its slot back from a consumer running on it, blocking this thread until then.
        Callees of that code may still borrow it; consumers may not, until `step_out`."""
        with self._lock:
            if slot.free:
                slot.running = True
                return
            waiter = slot.stepper = _ThreadWaiter()
        try:
            waiter.lock.acquire()
        except BaseException:
            self._unstep(slot, waiter)
            raise

    async def step_in(self, slot: Slot) -> None:
        """`step_in_blocking` from a task (cancellable while waiting)."""
        with self._lock:
            if slot.free:
                slot.running = True
                return
            waiter = slot.stepper = _TaskWaiter()
        try:
            await waiter.wakeup.wait()
        except BaseException:
            self._unstep(slot, waiter)
            raise

    def _unstep(self, slot: Slot, waiter: _Waiter) -> None:
        with self._lock:
            if slot.stepper is waiter:
                slot.stepper = None
                return
        self.step_out(slot)

    def step_out(self, slot: Slot) -> None:
        """The stream holding `slot` is paused at a `yield` again (or has ended): lend its
        slot to a consumer waiting for it, if any."""
        with self._lock:
            slot.running = False
            if not slot.free or slot.done or not self._waiters:
                return
            waiter = self._lend(slot, lambda w: w.lender is slot or w.lender is _ANY_STREAM)
        if waiter is not None and not waiter.wake():
            self._give_back(slot)

    def _lend(self, slot: Slot, wants: Callable[[_Waiter], bool]) -> _Waiter | None:
        """Lend free `slot` to the first waiter that `wants` it; that waiter, to wake once the
        lock is let go (the caller holds it)."""
        waiter = next((w for w in self._waiters if wants(w)), None)
        if waiter is None:
            return None
        self._waiters.remove(waiter)
        slot.free = False
        waiter.lender = slot
        waiter.granted = waiter.via_lender = True
        return waiter

    def paused(self) -> Slot | None:
        """The slot of a leaf stream of this budget, open and lent to nobody, if any: the
        last resort of a stream consumer that cannot tell which streams feed it (see
        `leaf.Feed`)."""
        with self._lock:
            for slot in reversed(self._streams):
                if slot.free and not slot.done and not slot.running:
                    return slot
        return None

    def pause(self, slot: Slot) -> bool:
        """A stream consumer running on `slot`, borrowed from the slot of the stream feeding
        it, asks for its next chunk: give the stream its slot back, keeping `slot` to
        `resume` (see `leaf.Feed`). False, with nothing done, unless that is all there is to
        it (nobody borrows `slot` or waits for either, and the stream goes on)."""
        lender = slot.lender
        if lender is None or lender.budget is not self or not slot.borrowed:
            return False
        with self._lock:
            if (
                not slot.free
                or lender.done
                or lender.stepper is not None
                or (self._waiters and self._wanted(lender, slot))
            ):
                return False
            slot.free = False  # holds nothing until resumed
            slot.paused = True
            lender.free = True
            return True

    def resume(self, slot: Slot) -> bool:
        """Run a consumer paused on `slot` again, if the stream it borrows from is still open,
        idle and wanted by nobody else; else `slot` has ended."""
        lender = slot.lender
        assert lender is not None
        with self._lock:
            if (
                not lender.free
                or lender.running
                or lender.done
                or (self._waiters and self._wanted(lender, slot))
            ):
                slot.done = True
                return False
            lender.free = False
            slot.free = True
            slot.paused = False
            return True

    def _wanted(self, one: Slot, other: Slot) -> bool:
        """Whether a waiter may borrow `one` or `other`; the caller holds the lock."""
        return any(w.lender is one or w.lender is other for w in self._waiters)

    def acquire_or_stream_blocking(self, slot: Slot) -> None:
        """`acquire_blocking` for a stream consumer with no stream to borrow from yet (see
        `acquire_or_stream`)."""
        if self.parent is not None:
            self.parent.acquire_blocking()
        waiter = self._take_or_queue(_ThreadWaiter, _ANY_STREAM, fed=True)
        if not isinstance(waiter, bool):
            try:
                waiter.lock.acquire()
            except BaseException:
                self._abandon(waiter)
                if self.parent is not None:
                    self.parent.release()
                raise
        self._lent(slot, waiter)

    async def acquire_or_stream(self, slot: Slot) -> None:
        """`acquire` for a stream consumer with no stream to borrow from yet, whose input may
        come from streams running in other tasks, still to open: a slot, or the slot of the
        first leaf stream of this budget to open meanwhile (which that stream holds until it
        ends, idle whenever it waits for this consumer to take its chunks)."""
        if self.parent is not None:
            await self.parent.acquire()
        waiter = self._take_or_queue(_TaskWaiter, _ANY_STREAM, fed=True)
        if not isinstance(waiter, bool):
            try:
                await waiter.wakeup.wait()
            except BaseException:
                self._abandon(waiter)
                if self.parent is not None:
                    self.parent.release()
                raise
        self._lent(slot, waiter)

    def _lent(self, slot: Slot, waiter: _Waiter | bool) -> None:
        if isinstance(waiter, bool) or not waiter.via_lender:
            return
        slot.lender = waiter.lender
        slot.borrowed = slot.fed = True
        if self.parent is not None:
            self.parent.release()  # the stream's slot stands for the parents' too

    def __enter__(self) -> None:
        self.acquire_blocking()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: Any) -> None:
        self.release()
