"""The classroom edition: what a teacher needs to run a course on the notebooks.

Beside the stack, like ``wire/`` and ``show/``: it may import any part of wsteach, and nothing
imports it. One job per module:

- ``series``: the series' table (the README's list of notebooks), in order.
- ``student``: the student edition (solutions replaced by stubs), ``make student``.
- ``navigation``: the "Previous | Contents | Next" cells, ``make navigation``.
- ``language_info``: the kernel's ``language_info`` in each notebook, so that JupyterLab
  opens it unmodified, ``make language-info``.
- ``timing``: minutes per section, estimated, into TEACHING.md, ``make teaching``.
- ``book``: every notebook executed and rendered as a static site that opens offline,
  ``make book``; ``static_widgets`` draws the widgets it holds.
"""
