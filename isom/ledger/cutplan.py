"""Which reel to cut each piece from, so that the cuts leave the least remnant.

Waste is what a cut leaves on a reel that is too short to use: a reel that gives at least one
piece and keeps less than the item's minimum usable length (but more than nothing) turns that
rest into a remnant. A reel left at or above the minimum stays stock, and a reel not touched
wastes nothing. The proposal is the best of first-fit decreasing, best-fit decreasing and, for
a handful of pieces and reels, an exact CP-SAT model: never worse than first-fit decreasing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ortools.sat.python import cp_model

SCALE = 1_000_000  # lengths are kept in millionths, as the ledger stores them
EXACT_LIMIT = 120  # pieces x reels up to which CP-SAT looks for the least waste
EXACT_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Reel:
    """A reel (or coil, or offcut) and the length it holds."""

    code: str
    length: Decimal


@dataclass(slots=True)
class CutPlan:
    """Each piece's reel (None when no reel can give it), the waste, and how it was found."""

    pieces: list[tuple[Decimal, str | None]]
    waste: Decimal
    method: str
    left: dict[str, Decimal] = field(default_factory=dict)

    @property
    def unplaced(self) -> int:
        """How many pieces no reel can give."""
        return sum(1 for _, reel in self.pieces if reel is None)


def waste_of(
    reels: Sequence[Reel], pieces: Sequence[tuple[Decimal, str | None]], min_usable: Decimal | None
) -> tuple[Decimal, dict[str, Decimal]]:
    """The remnant length the cuts leave, and what each reel keeps after them."""
    left = {r.code: r.length for r in reels}
    used: set[str] = set()
    for length, code in pieces:
        if code is not None:
            left[code] -= length
            used.add(code)
    floor = min_usable or Decimal(0)
    waste = sum((left[c] for c in used if 0 < left[c] < floor), Decimal(0))
    return waste, left


def _greedy(
    pieces: Sequence[Decimal],
    reels: Sequence[Reel],
    choose: Callable[[list[tuple[str, Decimal]], Decimal], str | None],
) -> list[tuple[Decimal, str | None]]:
    room = [(r.code, r.length) for r in reels]
    out: list[tuple[Decimal, str | None]] = []
    for length in sorted(pieces, reverse=True):
        code = choose(room, length)
        if code is not None:
            room = [(c, left - length if c == code else left) for c, left in room]
        out.append((length, code))
    return out


def _first_fit(room: list[tuple[str, Decimal]], length: Decimal) -> str | None:
    return next((c for c, left in room if left >= length), None)


def _best_fit(room: list[tuple[str, Decimal]], length: Decimal) -> str | None:
    fits = [(left, c) for c, left in room if left >= length]
    return min(fits)[1] if fits else None


def first_fit_decreasing(
    pieces: Sequence[Decimal], reels: Sequence[Reel]
) -> list[tuple[Decimal, str | None]]:
    """Longest piece first, each on the first reel (in the order given) it fits on."""
    return _greedy(pieces, reels, _first_fit)


def best_fit_decreasing(
    pieces: Sequence[Decimal], reels: Sequence[Reel]
) -> list[tuple[Decimal, str | None]]:
    """Longest piece first, each on the reel it leaves the least on."""
    return _greedy(pieces, reels, _best_fit)


def _exact(
    pieces: Sequence[Decimal], reels: Sequence[Reel], min_usable: Decimal | None
) -> list[tuple[Decimal, str | None]] | None:
    """The most pieces placed, then the least waste, by CP-SAT within a short time limit."""
    model = cp_model.CpModel()
    size = [int(p * SCALE) for p in pieces]
    cap = [int(r.length * SCALE) for r in reels]
    floor = int((min_usable or Decimal(0)) * SCALE)
    x = [[model.new_bool_var(f"x{p}_{r}") for r in range(len(reels))] for p in range(len(pieces))]
    for row in x:
        model.add_at_most_one(row)
    wastes = []
    for r, c in enumerate(cap):
        given = cp_model.LinearExpr.weighted_sum([x[p][r] for p in range(len(pieces))], size)
        model.add(given <= c)
        used = model.new_bool_var(f"used{r}")
        keeps = model.new_bool_var(f"keeps{r}")  # what is left is still usable stock
        for p in range(len(pieces)):
            model.add_implication(x[p][r], used)
        model.add(c - given >= floor).only_enforce_if(keeps)
        waste = model.new_int_var(0, c, f"waste{r}")
        # waste >= what is left, on a used reel that keeps less than the minimum
        model.add(waste + given + c * keeps - c * used >= 0)
        wastes.append(waste)
    placed = cp_model.LinearExpr.sum([v for row in x for v in row])
    model.minimize(-(sum(cap) + 1) * placed + cp_model.LinearExpr.sum(wastes))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = EXACT_SECONDS
    solver.parameters.num_workers = 1
    solver.solve(model)
    if solver.status_name() not in ("OPTIMAL", "FEASIBLE"):
        return None
    out: list[tuple[Decimal, str | None]] = []
    for p, length in enumerate(pieces):
        reel = next((reels[r].code for r in range(len(reels)) if solver.value(x[p][r])), None)
        out.append((length, reel))
    return out


def propose(
    pieces: Sequence[Decimal], reels: Sequence[Reel], min_usable: Decimal | None
) -> CutPlan:
    """The reel for each piece that places the most pieces and leaves the least remnant."""
    candidates = [
        ("first-fit decreasing", first_fit_decreasing(pieces, reels)),
        ("best-fit decreasing", best_fit_decreasing(pieces, reels)),
    ]
    if pieces and reels and len(pieces) * len(reels) <= EXACT_LIMIT:
        exact = _exact(pieces, reels, min_usable)
        if exact is not None:
            candidates.append(("cp-sat", exact))
    best: CutPlan | None = None
    for method, assigned in candidates:
        waste, left = waste_of(reels, assigned, min_usable)
        plan = CutPlan(sorted(assigned, key=lambda a: (a[1] is None, a[1] or "")), waste, method)
        plan.left = left
        if best is None or (plan.unplaced, plan.waste) < (best.unplaced, best.waste):
            best = plan
    assert best is not None
    return best
