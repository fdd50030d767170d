"""Descent's reference library: the answer key of the course.

One module per topic, each leaned on by one or more notebooks:

- ``losses``     MSE, MAE, BCE, softmax, cross-entropy and their gradients   (notebook 04)
- ``optim``      pure update rules and torch.optim-like classes             (notebooks 06, 07)
- ``schedules``  learning rate as a function of the step                    (notebook 08)
- ``nn``         Linear, activations and an MLP with forward/backward       (notebooks 05, 09)
- ``gradcheck``  central differences and relative error                     (notebooks 01, 04, 05)
- ``data``       mini-batches, the 8x8 digits set, synthetic data           (notebooks 03, 05, 09)
- ``landscapes`` test functions: quadratic bowls, Rosenbrock, a 1-D non-convex loss
- ``plotting``   shared figures: contour + trajectory, loss curves
- ``checks``     student-facing checks with messages that name the mistake

Pure functions take and return numpy arrays and never mutate their inputs.
"""

__version__ = "0.1.0"
