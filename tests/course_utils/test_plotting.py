"""course_utils.plotting: titled, labelled axes; updatable artists; no leaked figures."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.landscapes import (  # noqa: E402
    double_well,
    gradient_descent,
    quadratic_bowl,
    rosenbrock,
    saddle,
)
from course_utils.plotting import (  # noqa: E402
    OKABE_ITO,
    STYLES,
    CurvePlot,
    PathPlot,
    contour_with_paths,
    curve_with_path_1d,
    loss_curves,
    style,
)


@pytest.fixture(autouse=True)
def no_figure_leaks():
    """Each test must close what it opened; a helper must open at most the one figure it returns."""
    before = set(plt.get_fignums())
    yield
    leaked = set(plt.get_fignums()) - before
    plt.close("all")
    assert not leaked, f"figures left open: {leaked}"


def assert_labelled(ax, legend: bool):
    assert ax.get_title(), "every figure needs a title"
    assert ax.get_xlabel() and ax.get_ylabel(), "every axis needs a label"
    assert (ax.get_legend() is not None) == legend


def test_styles_are_distinct_okabe_ito_colours_dashes_and_markers():
    palette = {c.lower() for c in OKABE_ITO.values()}
    assert len(palette) == 8
    assert all(s["color"].lower() in palette for s in STYLES)
    for key in ("color", "linestyle", "marker"):
        values = [str(s[key]) for s in STYLES]
        assert len(set(values)) == len(values), f"two STYLES share a {key}"
    assert style(len(STYLES)) == style(0)
    with pytest.raises(TypeError):
        STYLES[0]["color"] = "red"  # shared styles are read-only: no global state to corrupt


def test_contour_with_paths_draws_on_the_given_axes_without_new_figures():
    bowl = quadratic_bowl(angle=0.4)
    paths = {"η = 0.05": gradient_descent(bowl, bowl.start, 0.05, 20),
             "η = 0.15": gradient_descent(bowl, bowl.start, 0.15, 20)}
    fig, ax = plt.subplots()
    n_figures = len(plt.get_fignums())
    plot = contour_with_paths(bowl, paths, ax=ax)
    assert len(plt.get_fignums()) == n_figures
    assert isinstance(plot, PathPlot) and plot.ax is ax
    assert_labelled(ax, legend=True)
    assert "quadratic bowl" in ax.get_title()
    assert ax.get_xlim() == bowl.xlim and ax.get_ylim() == bowl.ylim
    labels = ax.get_legend_handles_labels()[1]
    assert {"η = 0.05", "η = 0.15", "start", "minimum"} <= set(labels)
    # Lines that must be told apart differ in colour AND dash AND marker.
    a, b = plot.lines.values()
    assert a.get_color() != b.get_color() and a.get_linestyle() != b.get_linestyle()
    assert a.get_marker() != b.get_marker()
    np.testing.assert_array_equal(a.get_xydata(), paths["η = 0.05"])
    # Contours use log-spaced levels above the minimum (f = 0 for the bowl).
    levels = np.asarray(ax.collections[0].levels)  # the ContourSet
    ratios = levels[1:] / levels[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    plt.close(fig)


def test_path_plot_update_moves_line_and_start():
    r = rosenbrock()
    plot = contour_with_paths(r, {"GD": gradient_descent(r, r.start, 1e-3, 10)})
    new = gradient_descent(r, [0.0, 2.0], 1e-3, 30)
    plot.update("GD", new)
    np.testing.assert_array_equal(plot.lines["GD"].get_xydata(), new)
    np.testing.assert_array_equal(plot.starts["GD"].get_xydata(), new[:1])
    with pytest.raises(KeyError, match="label"):
        plot.update("Adam", new)
    plt.close(plot.ax.figure)


def test_diverged_paths_are_drawn_up_to_where_they_blow_up():
    bowl = quadratic_bowl()
    path = gradient_descent(bowl, bowl.start, 0.5, 600)  # η > 2/λ_max: inf then NaN
    assert not np.isfinite(path[-1]).all()
    plot = contour_with_paths(bowl, {"diverged": path})
    ys = plot.lines["diverged"].get_ydata()
    assert np.isnan(ys[-1]) and np.isfinite(ys[0])
    plt.close(plot.ax.figure)


def test_saddle_contours_and_no_legend_without_paths():
    plot = contour_with_paths(saddle())
    assert plot.lines == {} and plot.ax.get_title()
    assert plot.ax.get_legend() is None  # nothing to tell apart: no minimum, no paths
    plt.close(plot.ax.figure)


def test_loss_curves_log_axes_legend_and_update():
    curves = {"SGD": np.geomspace(1, 1e-3, 50), "Adam": (np.arange(40) / 10, np.geomspace(2, 1e-4, 40))}
    plot = loss_curves(curves, xlabel="epoch")
    assert isinstance(plot, CurvePlot)
    ax = plot.ax
    assert_labelled(ax, legend=True)
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch"
    np.testing.assert_array_equal(plot.lines["Adam"].get_xdata(), np.arange(40) / 10)
    plot.update("SGD", np.geomspace(1, 1e-8, 100))
    assert plot.lines["SGD"].get_xdata()[-1] == 99
    assert ax.get_ylim()[0] < 1e-7  # rescaled to the new data
    plt.close(ax.figure)

    single = loss_curves({"loss": [3.0, 2.0, 1.0]}, log=False)
    assert_labelled(single.ax, legend=False)
    assert single.ax.get_yscale() == "linear"
    plt.close(single.ax.figure)


def test_curve_with_path_1d_landscape_and_plain_function():
    well = double_well()
    runs = {"w0 = 0.3": gradient_descent(well, 0.3, 0.05, 20),
            "w0 = −0.3": gradient_descent(well, -0.3, 0.05, 20)}
    plot = curve_with_path_1d(well, runs)
    assert_labelled(plot.ax, legend=True)
    assert plot.ax.get_xlim() == well.xlim
    np.testing.assert_allclose(plot.lines["w0 = 0.3"].get_ydata(), well.value(runs["w0 = 0.3"]))
    assert "minima" in plot.ax.get_legend_handles_labels()[1]
    plot.update("w0 = 0.3", np.array([1.5, 1.0]))
    np.testing.assert_allclose(plot.starts["w0 = 0.3"].get_xydata(), [[1.5, well.value(1.5)]])
    plt.close(plot.ax.figure)

    simple = curve_with_path_1d(lambda w: w ** 2, np.array([3.0, -2.4, 1.9]))
    assert set(simple.lines) == {"path"}
    lo, hi = simple.ax.get_xlim()
    assert lo < -2.4 and hi > 3.0
    assert_labelled(simple.ax, legend=True)
    plt.close(simple.ax.figure)


def test_styles_colours_are_valid_matplotlib_colours():
    for s in STYLES:
        assert mcolors.is_color_like(s["color"])


@pytest.mark.parametrize("call, error, name", [
    (lambda: contour_with_paths(double_well()), TypeError, "landscape"),
    (lambda: contour_with_paths(rosenbrock(), [[0, 0]]), TypeError, "paths"),
    (lambda: contour_with_paths(rosenbrock(), {"GD": np.zeros((5, 3))}), ValueError, "paths"),
    (lambda: contour_with_paths(rosenbrock(), {"GD": np.zeros(5)}), ValueError, "paths"),
    (lambda: contour_with_paths(rosenbrock(), ax="left"), TypeError, "ax"),
    (lambda: loss_curves({}), ValueError, "curves"),
    (lambda: loss_curves([1.0, 2.0]), TypeError, "curves"),
    (lambda: loss_curves({"a": np.ones((3, 2))}), ValueError, "curves"),
    (lambda: loss_curves({"a": (np.arange(3), np.ones(4))}), ValueError, "curves"),
    (lambda: curve_with_path_1d(rosenbrock(), np.zeros(3)), ValueError, "f"),
    (lambda: curve_with_path_1d("w**2", np.zeros(3)), TypeError, "f"),
    (lambda: curve_with_path_1d(double_well(), np.zeros((3, 2))), ValueError, "path"),
    (lambda: curve_with_path_1d(double_well(), np.zeros(3), window=(1.0, -1.0)), ValueError, "window"),
    (lambda: style(-1), ValueError, "i"),
])
def test_bad_arguments_raise_errors_that_name_them(call, error, name):
    with pytest.raises(error, match=rf"\b{name}\b"):
        call()
