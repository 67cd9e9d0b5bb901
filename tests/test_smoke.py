"""The headline numbers of the issue: 0.5 MobileNet-160 (MobileNet v1 Table 9)."""

import mbcost


def test_half_mobilenet_160_exact():
    # paper Table 9 prints 76M / 1.32M; the exact count (reference: paper_tables.md §1.4)
    a = mbcost.analyze("mobilenet_v1", alpha=0.5, resolution=160)
    assert (a.madds, a.params) == (76_524_800, 1_320_648)
    assert sum(r.madds for r in a.rows) == a.madds
    assert sum(r.params for r in a.rows) == a.params
