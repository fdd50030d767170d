"""The notebooks' door to the explorers: ``from course_utils import widgets``.

A thin re-export. The explorers live in ``course_utils.explorers`` (one module each, on the
stage of ``explorers.stage``); the regime maths they draw in ``course_utils.regimes``.

    widgets.learning_rate_explorer_1d()                      # notebook 01
    widgets.optimizer_race(your_rules={"adam": adam_step})   # notebook 07
    widgets.initialization_explorer(scheme="He")             # notebook 10
"""
from course_utils import explorers
from course_utils.explorers import *  # noqa: F401,F403 - the re-export is this module's job
from course_utils.regimes import REGIMES, classify_regime, quadratic_regime

__all__ = ["REGIMES", "classify_regime", "quadratic_regime", *explorers.__all__]
