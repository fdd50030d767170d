"""explorers.latency: slider change → figure rendered, in milliseconds (bench/widgets.py)."""
from __future__ import annotations

import pytest

from course_utils.explorers.latency import measure_update_latency
from course_utils.explorers.race import optimizer_race


def test_measure_update_latency_reports_milliseconds():
    explorer = optimizer_race()
    result = measure_update_latency(explorer, n=5)
    assert set(result) == {"median_ms", "p90_ms", "max_ms", "n", "mode", "times_ms"}
    assert result["n"] == 5 and result["mode"] == "png" and len(result["times_ms"]) == 5
    assert 0 < result["median_ms"] <= result["max_ms"]
    with pytest.raises(ValueError, match="control"):
        measure_update_latency(explorer, control="nope")
    with pytest.raises(TypeError, match="explorer"):
        measure_update_latency("race")
