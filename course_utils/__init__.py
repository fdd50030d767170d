"""Descent's reference library: the answer key of the course.

One module per topic, each leaned on by one or more notebooks:

- ``losses``     MSE, MAE, BCE, softmax, cross-entropy and their gradients   (notebook 04)
- ``optim``      pure update rules and torch.optim-like classes             (notebooks 06, 07)
- ``schedules``  learning rate as a function of the step                    (notebook 08)
- ``nn``         Linear, activations and an MLP with forward/backward       (notebooks 05, 09)
- ``gradcheck``  central differences and relative error                     (notebooks 01, 04, 05)
- ``data``       mini-batches, the 8x8 digits set, synthetic data           (notebooks 03, 05, 09)
- ``init``       Xavier and He initial weights, as torch.nn.init           (notebook 10)
- ``clipping``   gradient clipping by global norm and by value              (notebook 10)
- ``diagnostics`` the signal through depth, overfit one batch, the learning-rate
                 range test, early stopping                                 (notebook 10)
- ``sanity``     checks that catch a wrong backward pass or Adam step       (notebook 10)
- ``landscapes`` test functions: quadratic bowls, Rosenbrock, a 1-D non-convex loss
- ``loop``       the one training loop, ``descend``, over one rule signature
                 ``next_w, state = rule(w, dw, state)`` (every path and run goes through it)
- ``regimes``    learning-rate regimes: from a quadratic's theory and from a path (pure maths)
- ``plotting``   shared figures: contour + trajectory, loss curves; the Okabe-Ito palette
- ``checks``     student-facing checks with messages that name the mistake
- ``answer_key`` which reference answers which exercise (read by ``checks.quiet()`` and the grader)
- ``arguments``  the argument checks every public function starts with (``arguments.positive``)
- ``i18n``       the student's language: ``set_language("pt_BR")`` (or ``DESCENT_LANG``); every
                 message, label and badge goes through its ``_()`` (catalogs in ``locale/``)

The live explorers are a wing of their own, ``explorers/`` (one small module per explorer),
reached in the notebooks as ``from course_utils import widgets``.

Pure functions take and return numpy arrays and never mutate their inputs.
"""

__version__ = "0.1.0"
