"""The checks of the notebooks' exercises, one module per notebook (``nb03`` for notebook 03).

A notebook imports only its own module: ``from wsteach.exercises import nb03``. What the checks
share is in ``checking``.
"""
