"""The latency histograms are built from per-bucket counts the database returns: each
row counted once, in its first bucket, then made cumulative as Prometheus wants."""

from gateway.observe.metrics import _cumulate


def test_per_bucket_counts_become_cumulative():
    buckets = (1, 5, 10)
    rows = [(0, 2, 1.0), (2, 3, 24.0), (3, 1, 100.0)]  # 2 under 1 s, 3 in (5, 10], 1 over 10 s
    assert _cumulate(rows, buckets) == ([2, 2, 5], 6, 125.0)
    assert _cumulate([], buckets) == ([0, 0, 0], 0, 0.0)
