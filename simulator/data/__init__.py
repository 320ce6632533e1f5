"""The simulated Pendo subscription: entities, people, activity and their ground truth.

``Dataset`` is the one entry point; see its docstrings for the visibility rules.
"""

from .dataset import Dataset
from .scales import SCALES

__all__ = ["SCALES", "Dataset"]
