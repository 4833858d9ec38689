"""Minute arithmetic on a workstation's time: unavailable spans, what it already runs, and where
an operation fits next. Shared by the instant repair and by the plan checks."""

from __future__ import annotations

from bisect import bisect_right, insort

Span = tuple[int, int]


def merge(spans: list[Span]) -> list[Span]:
    """Sorted, disjoint spans covering the same minutes (touching spans join)."""
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def covering(spans: list[Span], t: int) -> Span | None:
    """The span containing minute t, if any (spans sorted and disjoint)."""
    i = bisect_right(spans, (t, 2**62)) - 1
    if i >= 0 and spans[i][0] <= t < spans[i][1]:
        return spans[i]
    return None


def first_overlap(spans: list[Span], a: int, b: int) -> Span | None:
    """The earliest span overlapping [a, b), if any (spans sorted by start, disjoint)."""
    i = max(0, bisect_right(spans, (a, 2**62)) - 1)
    for s in spans[i:]:
        if s[0] >= b:
            return None
        if s[1] > a:
            return s
    return None


def finish(down: list[Span], start: int, minutes: int, span_breaks: bool) -> int:
    """When work of `minutes` started at `start` ends: straight on, or paused over breaks."""
    if not span_breaks:
        return start + minutes
    t, left = start, minutes
    i = bisect_right(down, (t, 2**62))
    while left > 0:
        nxt = down[i][0] if i < len(down) else 2**62
        if t + left <= nxt:
            return t + left
        left -= nxt - t
        t = down[i][1]
        i += 1
    return t


def fits(down: list[Span], start: int, end: int, minutes: int, span_breaks: bool) -> bool:
    """Whether [start, end) is a valid run of `minutes` of work against the unavailable time."""
    if covering(down, start) is not None:
        return False
    if not span_breaks:
        return end - start == minutes and first_overlap(down, start, end) is None
    return finish(down, start, minutes, True) == end


class Machine:
    """One workstation while a plan is built: its unavailable time and what is placed on it."""

    def __init__(self, down: list[Span]) -> None:
        self.down = down
        self.busy: list[Span] = []

    def free(self, start: int, end: int) -> bool:
        return first_overlap(self.busy, start, end) is None

    def earliest(self, est: int, minutes: int, span_breaks: bool) -> tuple[int, int]:
        """The earliest [start, end) from `est` on that is working time and not taken."""
        t = est
        for _ in range(100_000):
            d = covering(self.down, t)
            if d is not None:
                t = d[1]
                continue
            end = finish(self.down, t, minutes, span_breaks)
            if not span_breaks:
                block = first_overlap(self.down, t, end)
                if block is not None:
                    t = block[1]
                    continue
            taken = first_overlap(self.busy, t, end)
            if taken is not None:
                t = taken[1]
                continue
            return t, end
        raise RuntimeError("no working time found for an operation")  # pragma: no cover

    def take(self, start: int, end: int) -> None:
        insort(self.busy, (start, end))

    def release(self, start: int, end: int) -> None:
        self.busy.remove((start, end))


class Crew:
    """People of one skill while a plan is built: at most `size` operations at once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.busy: list[Span] = []

    def blocked_until(self, start: int, end: int) -> int | None:
        """None if a person is free through [start, end); else a later time to try."""
        over = [s for s in self.busy if s[0] < end and s[1] > start]
        if len(over) < self.size:
            return None
        points = sorted({start, *(s[0] for s in over if s[0] > start)})
        for p in points:
            if sum(1 for s in over if s[0] <= p < s[1]) >= self.size:
                return min(s[1] for s in over if s[0] <= p < s[1])
        return None  # pragma: no cover

    def take(self, start: int, end: int) -> None:
        self.busy.append((start, end))

    def release(self, start: int, end: int) -> None:
        self.busy.remove((start, end))
