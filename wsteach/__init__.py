"""wsteach: WebSockets from first principles.

The package collects what the notebooks in ``notebooks/`` build by hand. Importing it is cheap on
purpose: nothing here pulls in scapy, numpy or matplotlib; import the submodule you need
(``wsteach.frames``, ``wsteach.aio``, ``wsteach.wire.capture`` ...).
"""

__version__ = "0.1.0"
