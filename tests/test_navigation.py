"""The navigation cells: the links each position gets, idempotent regeneration, and the
hygiene check failing on a notebook without them (``wsteach.classroom.navigation``)."""

from __future__ import annotations

import nbformat

from wsteach.classroom import navigation, series

ENTRIES = [series.Entry("00 · Start here", "00_start_here", "map"),
           series.Entry("01 · HTTP", "01_http", "http"),
           series.Entry("02 · Polling", "02_polling", "polls")]


def test_first_middle_and_last_notebooks_get_the_links_they_can_have():
    assert navigation.links(ENTRIES, 0) == (
        "[Contents](../README.md) | [01 · HTTP →](01_http.ipynb)")
    assert navigation.links(ENTRIES, 1) == (
        "[← 00 · Start here](00_start_here.ipynb) | [Contents](../README.md) | "
        "[02 · Polling →](02_polling.ipynb)")
    assert navigation.links(ENTRIES, 2) == (
        "[← 01 · HTTP](01_http.ipynb) | [Contents](../README.md)")


def notebook(tmp_path, *sources: str):
    path = tmp_path / "01_http.ipynb"
    cells = [nbformat.v4.new_markdown_cell("# 01 · HTTP")]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def test_a_notebook_without_links_fails_with_the_command_that_fixes_it(tmp_path):
    path = notebook(tmp_path, "x = 1")
    assert navigation.problems(path, navigation.links(ENTRIES, 1)) == [
        "01_http.ipynb has no navigation links: run `make navigation`"]


def test_writing_is_idempotent_and_keeps_the_script_paired(tmp_path):
    path = notebook(tmp_path, "x = 1", "y = 2")
    path.with_suffix(".py").write_text(navigation.jupytext.writes(
        navigation.jupytext.read(path), fmt="py:percent"))
    source = navigation.links(ENTRIES, 1)
    assert navigation.write(path, source) is True
    assert navigation.write(path, source) is False
    cells = nbformat.read(path, as_version=4).cells
    assert [cell.source for cell in cells] == ["# 01 · HTTP", source, "x = 1", "y = 2", source]
    assert navigation.problems(path, source) == []
    script = navigation.jupytext.read(path.with_suffix(".py"))
    assert navigation.cell_texts(script) == navigation.cell_texts(nbformat.read(path, 4))


def test_out_of_date_or_moved_links_are_reported(tmp_path):
    path = notebook(tmp_path, "x = 1")
    navigation.write(path, navigation.links(ENTRIES[:2], 1))  # before 02 existed
    assert "out of date" in navigation.problems(path, navigation.links(ENTRIES, 1))[0]
    moved = nbformat.read(path, as_version=4)
    moved.cells.append(moved.cells.pop(1))
    nbformat.write(moved, path)
    assert "second and the last cell" in navigation.problems(path, "anything")[0]


def test_the_series_table_is_read_in_order_and_compared_with_the_files(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("| notebook | builds |\n|---|---|\n"
                      "| [00 · Start here](notebooks/00_start_here.ipynb) | the map |\n"
                      "| [01 · HTTP](notebooks/01_http.ipynb) | requests |\n")
    entries = series.read_series(readme)
    assert [(e.number, e.title, e.builds) for e in entries] == [
        ("00", "00 · Start here", "the map"), ("01", "01 · HTTP", "requests")]
    (tmp_path / "00_start_here.ipynb").touch()
    (tmp_path / "02_new.ipynb").touch()
    assert series.check_against_files(entries, tmp_path) == [
        "02_new.ipynb is not in the README's notebook table: add a row",
        "the README's notebook table lists 01_http.ipynb, which does not exist"]
