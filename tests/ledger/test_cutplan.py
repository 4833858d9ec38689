"""The cut proposal: which reel each piece comes from, never worse than first-fit decreasing."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from isom.ledger import cutplan
from isom.ledger.cutplan import Reel

D = Decimal

lengths = st.integers(min_value=1, max_value=4000).map(lambda n: D(n) / 100)
reel_sets = st.lists(
    st.integers(min_value=1, max_value=20000).map(lambda n: D(n) / 100), min_size=1, max_size=6
).map(lambda ls: [Reel(f"R-{i}", length) for i, length in enumerate(ls)])


@settings(max_examples=60, deadline=None)
@given(
    pieces=st.lists(lengths, min_size=1, max_size=10),
    reels=reel_sets,
    min_usable=st.one_of(st.none(), lengths),
)
def test_the_proposal_never_wastes_more_than_first_fit_decreasing(
    pieces: list[Decimal], reels: list[Reel], min_usable: Decimal | None
) -> None:
    plan = cutplan.propose(pieces, reels, min_usable)
    ffd = cutplan.first_fit_decreasing(pieces, reels)
    ffd_waste, _ = cutplan.waste_of(reels, ffd, min_usable)
    ffd_unplaced = sum(1 for _, r in ffd if r is None)
    # as many pieces placed, and then no more waste; when FFD places every piece, no more waste
    assert (plan.unplaced, plan.waste) <= (ffd_unplaced, ffd_waste)
    if ffd_unplaced == 0:
        assert plan.unplaced == 0 and plan.waste <= ffd_waste
    # the plan is real: every piece once, no reel cut beyond its length
    assert sorted(q for q, _ in plan.pieces) == sorted(pieces)
    assert all(left >= 0 for left in plan.left.values())
    assert plan.waste == cutplan.waste_of(reels, plan.pieces, min_usable)[0]


def test_reels_of_100_and_35_give_four_pieces_of_30_not_four_and_a_half() -> None:
    plan = cutplan.propose([D(30)] * 5, [Reel("R-100", D(100)), Reel("R-35", D(35))], D(6))
    assert plan.unplaced == 1
    assert sorted(r for _, r in plan.pieces if r) == ["R-100", "R-100", "R-100", "R-35"]
    assert plan.left == {"R-100": D(10), "R-35": D(5)}
    assert plan.waste == D(5)  # the 5 m end of R-35 is under the 6 m minimum


def test_the_proposal_wastes_less_than_first_fit_where_first_fit_leaves_an_end() -> None:
    # First fit cuts both pieces from the 10 m reel and leaves a 1 m end under the 1.5 m
    # minimum; the proposal cuts the 2 m piece from the 8 m reel and leaves no end at all
    reels = [Reel("R-10", D(10)), Reel("R-8", D(8))]
    pieces = [D(7), D(2)]
    ffd = cutplan.first_fit_decreasing(pieces, reels)
    assert cutplan.waste_of(reels, ffd, D("1.5"))[0] == D(1)
    plan = cutplan.propose(pieces, reels, D("1.5"))
    assert plan.unplaced == 0 and plan.waste == D(0)
    assert plan.left == {"R-10": D(3), "R-8": D(6)}
