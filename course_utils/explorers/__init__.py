"""Live explorers: drag a slider, watch gradient descent change (notebooks 01–10).

Each explorer is one function that builds an :class:`Explorer` — the widget box, the figure,
its artists and controls — and shows itself when it is the last expression of a cell::

    from course_utils import widgets          # the notebooks' name for this package
    widgets.learning_rate_explorer_1d()

=================================  ==========  ================================================
explorer (module)                  notebooks   controls
=================================  ==========  ================================================
``learning_rate_explorer_1d()``    01          η (log), start w0, loss (parabola / double well)
``learning_rate_explorer_2d()``    02          η (log), start (sliders or a click)
``batch_size_explorer()``          03          batch size B, η, shuffle
``softmax_explorer()``             04          logits z₁ z₂ z₃, true class, temperature T
``backprop_explorer()``            05          depth, activation, initial weight scale g
``optimizer_race()``               06, 07      landscape, η (SGD family / adaptive), β, α, β1,
                                               β2, start (sliders or a click), show/hide,
                                               step-by-step playback, arrows
``schedule_explorer()``            08          schedule, lr0, warmup steps
``training_explorer()``            09          optimizer, η₀, batch size, schedule, warmup,
                                               hidden units (retrains on release)
``initialization_explorer()``      10          init (torch default / Xavier / He), activation,
                                               layers, extra weight scale g
=================================  ==========  ================================================

The wing: ``stage`` (the ``Explorer``, the blitted ``Stage``, the ``Panel`` base class and the
controls), ``drawing`` (what several explorers draw), one module per explorer
(``learning_rate_1d``, ``learning_rate_2d``, ``batch_size``, ``softmax``, ``backprop``,
``race``, ``schedule``, ``training``, ``initialization``), and ``latency``
(``measure_update_latency``, for ``bench/widgets.py``). Each explorer is a small ``Panel``
class: static parts drawn once in ``__init__``, ``refresh`` recomputes and moves the artists,
``show`` wires it up.

Every number comes from the reference code — the update rules of ``course_utils.optim`` run by
the one loop of ``course_utils.loop``, the landscapes of ``course_utils.landscapes``,
``losses``, ``nn``, ``schedules``, the regimes of ``course_utils.regimes``; a student's own
rule can join the optimizer race (``optimizer_race(your_rules={"adam": adam_step})``).

How they stay fast and clean:

- The static parts (curves, contours, axes, legends, regime bands) are drawn once and cached;
  a control change recomputes the numbers, calls ``set_data`` on the existing artists and
  redraws only those over the cached background (blitting). Axes limits are fixed per scene
  so that a slider move never re-renders the static parts.
- In a Jupyter kernel with ipympl installed, the explorer's figure gets an ipympl canvas of its
  own: a live figure without ``%matplotlib widget``, so the notebook's backend — and every
  other figure of the notebook — stays inline. Re-running the cell replaces the explorer of
  that name (closing the old one's widgets) instead of piling up canvases. Elsewhere (Colab,
  scripts, tests) the figure is shown as a PNG in an ``Image`` widget: same controls, same
  numbers.
- One change, one picture, never a wrong one: a control change sends exactly one frame, and
  every frame is whole (the page may skip one that arrives while the last is decoding; a
  skipped difference would leave it wrong). Values the kernel sets go on the slider's grid,
  and a range moves in one message with its value, so the page sends nothing stale back.
- Figures are 900 px wide (they fit the notebook with the file browser open), legends sit
  above the axes (no line runs through them), and a run that blows up says "diverged" in the
  picture.
- An error in a callback (e.g. a student's rule raising) is printed in the explorer's
  ``Output`` area, not lost in the kernel log.
"""
from course_utils.explorers.backprop import backprop_explorer
from course_utils.explorers.batch_size import batch_size_explorer
from course_utils.explorers.initialization import initialization_explorer
from course_utils.explorers.latency import measure_update_latency
from course_utils.explorers.learning_rate_1d import learning_rate_explorer_1d
from course_utils.explorers.learning_rate_2d import learning_rate_explorer_2d
from course_utils.explorers.race import optimizer_race
from course_utils.explorers.schedule import schedule_explorer
from course_utils.explorers.softmax import softmax_explorer
from course_utils.explorers.stage import Explorer
from course_utils.explorers.training import training_explorer

__all__ = [
    "Explorer",
    "learning_rate_explorer_1d",
    "learning_rate_explorer_2d",
    "batch_size_explorer",
    "softmax_explorer",
    "backprop_explorer",
    "optimizer_race",
    "schedule_explorer",
    "training_explorer",
    "initialization_explorer",
    "measure_update_latency",
]
