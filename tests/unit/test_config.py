from __future__ import annotations

from pathlib import Path

import pytest

from st2pkg.config import OPTIONS, resolve
from st2pkg.distros import Catalog
from st2pkg.errors import ConfigError


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "st2pkg.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_nothing_given(catalog: Catalog, tmp_path: Path) -> None:
    opts = resolve(catalog, config_file=write(tmp_path, ""), environ={}, cwd=tmp_path)
    assert opts.distros == ("bookworm",)
    assert opts.packages == ("st2",)
    assert opts.st2_gitrev == "master"
    assert opts.release == "1"
    assert opts.version is None
    assert opts.jobs >= 1
    assert opts.output == tmp_path / "build"
    assert set(opts.sources.values()) == {"default"}


def test_precedence_default_config_env_cli(catalog: Catalog, tmp_path: Path) -> None:
    cfg = write(tmp_path, "st2_gitrev: from-config\nrelease: '5'\npackages: [st2client]\n")
    env = {"ST2_GITREV": "from-env", "ST2PKG_RELEASE": "7"}
    opts = resolve(catalog, cli={"st2_gitrev": "from-cli", "release": None},
                   config_file=cfg, environ=env, cwd=tmp_path)
    assert opts.st2_gitrev == "from-cli"
    assert opts.sources["st2_gitrev"] == "cli"
    assert opts.release == "7"
    assert opts.sources["release"] == "env"
    assert opts.packages == ("st2client",)
    assert opts.sources["packages"] == "config"


def test_historical_env_names_are_read(catalog: Catalog, tmp_path: Path) -> None:
    env = {"ST2_GITURL": "file:///srv/st2", "ST2_GITREV": "v3.9.0", "ST2_PACKAGES": "st2,st2client",
           "ST2PKG_VERSION": "3.9.1", "ST2PKG_RELEASE": "2", "DEBUG_LEVEL": "1"}
    opts = resolve(catalog, config_file=write(tmp_path, ""), environ=env, cwd=tmp_path)
    assert (opts.st2_giturl, opts.st2_gitrev, opts.version, opts.release, opts.debug_level) == (
        "file:///srv/st2", "v3.9.0", "3.9.1", "2", 1)
    assert opts.packages == ("st2", "st2client")


def test_config_env_var_picks_file(catalog: Catalog, tmp_path: Path) -> None:
    cfg = write(tmp_path, "release: '9'\n")
    opts = resolve(catalog, environ={"ST2PKG_CONFIG": str(cfg)}, cwd=tmp_path)
    assert opts.release == "9"
    assert opts.config_file == cfg


def test_all_expands_to_every_distro(catalog: Catalog, tmp_path: Path) -> None:
    opts = resolve(catalog, cli={"distros": "all"}, config_file=write(tmp_path, ""), environ={},
                   cwd=tmp_path)
    assert opts.distros == tuple(catalog.distros)


def test_unknown_distro_suggests(catalog: Catalog, tmp_path: Path) -> None:
    expected = r"unknown distro 'bookwrm' \(did you mean 'bookworm'\?\)"
    with pytest.raises(ConfigError, match=expected):
        resolve(catalog, cli={"distros": "bookwrm"}, config_file=write(tmp_path, ""), environ={})


def test_unknown_key_in_config_file_names_file(catalog: Catalog, tmp_path: Path) -> None:
    cfg = write(tmp_path, "relase: '2'\n")
    with pytest.raises(ConfigError) as info:
        resolve(catalog, config_file=cfg, environ={})
    assert str(cfg) in str(info.value)
    assert "did you mean 'release'" in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.parametrize(("env", "needle"), [
    ({"ST2PKG_JOBS": "many"}, "option 'jobs' must be a whole number"),
    ({"ST2PKG_BASE_SOURCE": "registy"}, "did you mean 'registry'"),
    ({"DEBUG_LEVEL": "-1"}, "must be 0 or more"),
])
def test_bad_values_name_the_source(catalog: Catalog, tmp_path: Path, env: dict[str, str],
                                    needle: str) -> None:
    with pytest.raises(ConfigError, match="environment") as info:
        resolve(catalog, config_file=write(tmp_path, ""), environ=env)
    assert needle in str(info.value)


def test_bad_yaml_is_a_config_error(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        resolve(catalog, config_file=write(tmp_path, "a: [\n"), environ={})


def test_missing_config_file(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        resolve(catalog, config_file=tmp_path / "nope.yml", environ={})


def test_describe_redacts_url_credentials(catalog: Catalog, tmp_path: Path) -> None:
    env = {"ST2_GITURL": "https://user:s3cret@git.example/st2.git"}
    opts = resolve(catalog, config_file=write(tmp_path, ""), environ=env, cwd=tmp_path)
    rows = {name: (value, source) for name, value, source in opts.describe()}
    assert rows["st2_giturl"] == ("https://***@git.example/st2.git", "env")
    assert "s3cret" not in repr(opts.describe())


def test_every_option_has_help_and_env() -> None:
    envs = [spec.env for spec in OPTIONS]
    assert len(envs) == len(set(envs))
    assert all(spec.help.endswith(".") for spec in OPTIONS)


def test_readme_option_table_matches_the_code() -> None:
    from st2pkg.readme import render_readme

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert render_readme(readme) == readme, "README option table is stale: run `st2pkg docs`"


def test_git_mirrors_rules_from_env_and_config(catalog: Catalog, tmp_path: Path) -> None:
    cfg = write(tmp_path, "git_mirrors: ['https://github.com/StackStorm/ = file:///srv/git/']\n")
    opts = resolve(catalog, config_file=cfg, environ={}, cwd=tmp_path)
    assert opts.git_mirrors == ("https://github.com/StackStorm/=file:///srv/git/",)
    env = {"ST2PKG_GIT_MIRRORS": "https://a.invalid/=https://tok:s3cret@m.invalid/a/,"
                                 "git@b.invalid:=file:///srv/b/"}
    opts = resolve(catalog, config_file=write(tmp_path, ""), environ=env, cwd=tmp_path)
    assert len(opts.git_mirrors) == 2
    shown = {n: v for n, v, _ in opts.describe()}["git_mirrors"]
    assert "s3cret" not in shown
    assert resolve(catalog, config_file=write(tmp_path, ""), environ={},
                   cwd=tmp_path).git_mirrors == ()


@pytest.mark.parametrize("rule", ["https://github.com/StackStorm/", "=file:///srv/git/",
                                  "https://github.com/StackStorm/="])
def test_a_git_mirrors_rule_needs_both_sides(catalog: Catalog, tmp_path: Path,
                                             rule: str) -> None:
    with pytest.raises(ConfigError, match=r"ST2PKG_GIT_MIRRORS: option 'git_mirrors' item .* "
                                          r"is not PREFIX=MIRROR"):
        resolve(catalog, config_file=write(tmp_path, ""), environ={"ST2PKG_GIT_MIRRORS": rule},
                cwd=tmp_path)
