"""The benchmarks' pure helpers: percentiles, summaries, cells, tables, py-spy stacks."""

import math

import pytest

from bench.common import ms, percentile, secs, summarize, table, top_functions


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]  # unsorted on purpose
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 95) == pytest.approx(3.85)


def test_percentile_of_one_and_of_none() -> None:
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_p99_of_a_hundred_values_sits_near_the_top() -> None:
    values = [float(i) for i in range(1, 101)]
    assert percentile(values, 99) == pytest.approx(99.01)
    s = summarize(values)
    assert (s.n, s.p50, s.max, s.mean) == (100, 50.5, 100.0, 50.5)


def test_summary_of_nothing_is_nan() -> None:
    s = summarize([])
    assert s.n == 0
    assert all(math.isnan(v) for v in s[1:])


def test_cells() -> None:
    assert ms(0.0123) == "12.3"
    assert ms(1.5) == "1,500"
    assert ms(math.nan) == "-"
    assert secs(2.345) == "2.35"
    assert secs(math.nan) == "-"


def test_table_aligns_numbers_right_and_text_left() -> None:
    out = table(["what", "p99 ms"], [["create", "12.3"], ["list all", "1,500"]])
    assert out.splitlines() == [
        "| what     | p99 ms |",
        "| -------- | -----: |",
        "| create   |   12.3 |",
        "| list all |  1,500 |",
    ]


def test_table_rejects_a_short_row() -> None:
    with pytest.raises(ValueError, match="1 cells"):
        table(["a", "b"], [["only"]])


def test_top_functions_sums_inclusive_and_self() -> None:
    raw = "\n".join(
        [
            "main (/x/app.py:1);handle (/x/app.py:9);query (/y/db.py:3) 3",
            "main (/x/app.py:2);handle (/x/app.py:9) 1",
            "garbage line",
        ]
    )
    out = top_functions(raw)
    lines = {line.split("|")[1].strip(): line for line in out.splitlines()[2:-1]}
    assert "100.0%" in lines["main (x/app.py)"]
    assert "75.0%" in lines["query (y/db.py)"]
    assert out.endswith("(4 samples)")
    assert top_functions("") == "(no samples)"
