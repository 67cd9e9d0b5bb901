"""Limits on what one spec may expand to (docs/spec-format.md, Limits); shared by the
spec loader, the layer kinds and the graph builder, so none of them imports another
for a number."""

MAX_LAYERS = 10_000  # primitive nodes after expanding blocks and repeats
MAX_WORK = 250_000  # expansion steps of one graph (see graph.Work)
MAX_NESTING = 16  # blocks (and parallel branches) inside each other
MAX_RESOLUTION = 16_384  # pixels on a side
MAX_CHANNELS = 1_000_000  # channels of any tensor
MAX_KERNEL = 1_024
RESERVED_NAME = "total"  # the CSV's total row (report.TOTAL): no layer may be called so
