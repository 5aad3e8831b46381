"""Where the series keeps its data: ``data/`` beside the package (an editable install)."""

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
CAPTURES = DATA / "captures"
