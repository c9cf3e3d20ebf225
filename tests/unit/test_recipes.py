"""Package recipes: the shipped ones load with their facts; a wrong name or a broken recipe
is bad input that says what is known and what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from st2pkg.errors import ConfigError, SourceError
from st2pkg.paths import RECIPES_DIR
from st2pkg.recipes import known, load, recipes_hash, requirements


def recipe_dir(root: Path, name: str, env: str, **files: str) -> Path:
    (root / name).mkdir(parents=True)
    (root / name / "package.env").write_text(env)
    for file, content in files.items():
        (root / name / file).write_text(content)
    return root


def test_the_shipped_recipes() -> None:
    assert known(RECIPES_DIR) == ["st2", "st2client"]
    st2, client = load("st2", RECIPES_DIR), load("st2client", RECIPES_DIR)
    assert (st2.needs_source, st2.default_version, st2.venv) == (
        True, None, "/opt/stackstorm/st2")
    assert (client.needs_source, client.default_version) == (False, "3.9.0")
    assert "st2api" in st2.units


def test_an_unknown_recipe_suggests_and_lists_the_known() -> None:
    with pytest.raises(ConfigError) as info:
        load("st2clent", RECIPES_DIR)
    assert str(info.value) == (f"--package / ST2_PACKAGES: no recipe 'st2clent' in {RECIPES_DIR}"
                               " (did you mean 'st2client'?); known: st2, st2client")
    assert info.value.exit_code == 2


def test_a_bad_source_kind_names_the_file(tmp_path: Path) -> None:
    recipe_dir(tmp_path, "odd", "source_kind=git\n")
    with pytest.raises(ConfigError, match=r"odd/package.env: source_kind must be tree or pypi, "
                                          r"not 'git'"):
        load("odd", tmp_path)


def test_values_are_read_as_the_shell_would_quote_them(tmp_path: Path) -> None:
    recipe_dir(tmp_path, "mine", '# a comment\nsource_kind="pypi"\n'
               "default_version='1.2.3'\n  venv=/opt/mine  \nNOT_OURS=1\n",
               services="# unit  user\nmine-api  mine\n\nmine-worker mine\n")
    recipe = load("mine", tmp_path)
    assert (recipe.source_kind, recipe.default_version, recipe.venv) == (
        "pypi", "1.2.3", "/opt/mine")
    assert recipe.units == ["mine-api", "mine-worker"]
    assert recipe.rows("missing-file") == []


def test_a_requirements_script_that_fails_is_a_source_error(tmp_path: Path) -> None:
    root = recipe_dir(tmp_path, "mine", "source_kind=tree\n")
    (root / "scripts").mkdir()
    (root / "scripts" / "requirements").write_text(
        'echo "reading $1" >&2\necho "no fixed-requirements.txt in the source" >&2\nexit 1\n')
    with pytest.raises(SourceError) as info:
        requirements(load("mine", root), "1.0", tmp_path / "build-root")
    assert str(info.value) == ("package mine: its requirements cannot be listed: "
                               "no fixed-requirements.txt in the source")


def test_the_st2client_requirement_set_names_its_release(tmp_path: Path) -> None:
    text = requirements(load("st2client", RECIPES_DIR), "3.9.0", tmp_path)
    assert "st2client==3.9.0" in text.split()


def test_any_recipe_change_changes_the_hash(tmp_path: Path) -> None:
    root = recipe_dir(tmp_path, "mine", "source_kind=tree\n")
    before = recipes_hash(root)
    (root / "mine" / "package.env").write_text("source_kind=pypi\n")
    assert recipes_hash(root) != before
