"""The bench's cluster section: the projection's formula, and the section end to end on the
fixture course (a real scheduler with 1 and 2 workers, started and ended by the section)."""
import sys

import pytest

from conftest import FIXTURE_COURSE, REPO

sys.path.insert(0, str(REPO))  # `bench` is run from the checkout (python -m bench), not installed

from bench import cluster  # noqa: E402
from bench.__main__ import _cluster_notes  # noqa: E402


def test_projection_divides_the_work_by_cores_until_the_parent_is_the_limit():
    hours = cluster.projection(per_notebook_core=3.6, efficiency=1.0, parent=0.0)
    assert hours == pytest.approx({10: 2.0, 50: 0.4, 200: 0.1})  # 20,000 × 3.6 s / W
    halved = cluster.projection(per_notebook_core=3.6, efficiency=0.5, parent=0.0)
    assert halved[10] == pytest.approx(4.0)
    bound = cluster.projection(per_notebook_core=3.6, efficiency=1.0, parent=0.036)
    assert bound[200] == pytest.approx(0.2) and bound[10] == pytest.approx(2.0)
    split = cluster.projection(per_notebook_core=3.6, efficiency=1.0, parent=0.036, runs=2)
    assert split[200] == pytest.approx(0.1)  # two parents feed twice as fast


@pytest.mark.slow
def test_cluster_section_measures_both_paths_and_plots_them(tmp_path):
    plot = tmp_path / "throughput.png"
    result = cluster.run(FIXTURE_COURSE, tmp_path / "work", plot, log=lambda *_: None)
    assert result["config"]["notebooks"] == 2
    assert set(result["walls"]) == {"local1", "local2", "dask1", "dask2", "one"}
    assert [r["unit"] for r in result["rows"]] == ["ms", "s", "s", "nb/h", "nb/h", "s", "h",
                                                   "h", "h"]
    assert result["rows"][0]["n"] == 30 and 0 < result["rows"][0]["median"] < 5000
    hours = [r["median"] for r in result["rows"][-3:]]
    assert hours[0] >= hours[1] >= hours[2] > 0  # more cores, never slower
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert "T(W) = N × max(s / (W × e), p / R)" in _cluster_notes(result)[0]
