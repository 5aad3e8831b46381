"""The live chat of notebook 10: a server on ``wsteach.aio``, a page, a Python client, a widget.

- ``server.py``: ``ChatServer`` and ``serve_chat``; the page at ``/``, the WebSocket at ``/ws``.
- ``protocol.py``: the JSON messages and the close codes of the chat.
- ``names.py``, ``ratelimit.py``, ``origins.py``: the rules (nicknames, a token bucket per
  client, the Origin allow-list).
- ``page.py`` and ``static/``: the browser's page (plain HTML, CSS and JavaScript).
- ``client.py``: ``ChatClient``, a participant in Python that reconnects and resumes.
- ``widget.py``: ``ChatWidget``, the ipywidgets UI (the only module here that imports
  ipywidgets).
- ``blocking.py``: ``run_now``, the nest_asyncio2 helper for synchronous callers.
"""
