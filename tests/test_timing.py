"""TEACHING.md's minutes per section: the estimate follows its stated method, and the
generated block is up to date with the notebooks (``make teaching`` regenerates it)."""

from __future__ import annotations

import nbformat
import pytest

from wsteach.classroom import timing

PROSE = "word " * 150  # one minute at 150 words a minute


def test_the_block_in_teaching_md_is_up_to_date():
    assert timing.main([]) == 0, "TEACHING.md's timing tables are stale: run `make teaching`"


def test_each_section_is_costed_as_the_method_says():
    cells = [
        nbformat.v4.new_markdown_cell("# Title\n\n**Time:** about 5 minutes."),
        nbformat.v4.new_markdown_cell("[nav](x.ipynb)", metadata={"tags": ["navigation"]}),
        nbformat.v4.new_markdown_cell(f"## 1. Reading\n\n{PROSE}\n\n握手"),
        nbformat.v4.new_code_cell("a = 1\n\nb = 2\n"),  # 2 lines
        nbformat.v4.new_markdown_cell("## Exercises\n\n**Exercise 1.1.** Compute it."),
        nbformat.v4.new_code_cell("answer = 3", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("check(answer)"),
        nbformat.v4.new_code_cell("def f(x):\n    return x", metadata={"tags": ["solution"]}),
        nbformat.v4.new_markdown_cell("**Exercise 1.3** (open). Why?"),
        nbformat.v4.new_markdown_cell("Because.", metadata={"tags": ["solution"]}),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    intro, reading, exercises = timing.sections(notebook)
    assert intro.title == "Introduction" and intro.code_cells == 0
    assert (reading.title, reading.words, reading.cjk, reading.code_cells, reading.code_lines) == (
        "1. Reading", 152, 2, 1, 2)  # "1", "Reading" and 150 words; 握手; one cell of 2 lines
    assert reading.minutes == pytest.approx(152 / 150 + 2 / 250 + 0.5 + 2 / 20)
    assert exercises.exercises == ["value", "function", "open"]
    assert exercises.exercise_minutes == (timing.MINUTES_PER_VALUE + timing.MINUTES_PER_FUNCTION
                                          + timing.MINUTES_PER_OPEN)
    assert "Because" not in "\n".join(exercises.markdown), "model answers are not read"
    assert timing.stated_minutes(notebook) == 5


def test_an_exercise_list_without_checks_counts_as_open_questions():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "# T\n\n## Exercises\n\n1. Run it again.\n2. Find three terms.\n")])
    assert timing.sections(notebook)[-1].exercises == ["open", "open"]


def test_a_teaching_md_without_the_markers_is_refused():
    with pytest.raises(ValueError, match="no generated block"):
        timing.replace_block("# Teaching\n", "block")
