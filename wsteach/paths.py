"""Where the series keeps its data: ``data/`` beside the package (an editable install)."""

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
CAPTURES = DATA / "captures"
# npm packages (`npm install` at the repository's root): the browser's socket.io-client.
NODE_MODULES = DATA.parent / "node_modules"
