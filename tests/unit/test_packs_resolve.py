from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from tests.fixtures.packs import (
    PackWorld,
    build_world,
    commit,
    git,
    index_entry,
    init_repo,
    pack_yaml,
    write_index,
)

from st2pkg.errors import ConfigError, SourceError
from st2pkg.packs import commands
from st2pkg.packs.index import Index
from st2pkg.packs.resolve import ResolvedPack, Want, resolve_packs
from st2pkg.packs.source import parse_source


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> PackWorld:
    return build_world(tmp_path_factory.mktemp("world"))


def resolve(world: PackWorld, cache: Path, *packs: str, skip: bool = False,
            indexes: list[str] | None = None) -> dict[str, ResolvedPack]:
    index = Index(world.indexes if indexes is None else indexes)
    wants = [Want(parse_source(p, None, "spec", world.root), f"spec item {i}")
             for i, p in enumerate(packs)]
    return {p.ref: p for p in resolve_packs(wants, index, cache, skip_dependencies=skip)}


def head(path: Path) -> str:
    return git(path, "rev-parse", "HEAD")


@pytest.mark.parametrize(("ref", "label", "version"), [
    (None, "main", "2.2.0"),              # git URL without ref: default branch head
    ("1.0.0", "1.0.0", "1.0.0"),          # plain tag
    ("v2.0.0", "2.0.0", "2.0.0"),         # v-tag by its own name
    ("2.0.0", "2.0.0", "2.0.0"),          # semver ref also finds the v-tag
    ("feature", "feature", "2.1.0"),      # branch
    ("main", "main", "2.2.0"),            # default branch by name
])
def test_every_ref_form_checks_out_the_right_commit(
        world: PackWorld, tmp_path: Path, ref: str | None, label: str, version: str) -> None:
    pack = world.url("alpha") + (f"={ref}" if ref else "")
    got = resolve(world, tmp_path, pack, skip=True)["alpha"]
    assert got.commit == world.shas["alpha", label]
    assert head(got.path) == got.commit
    assert got.version == version
    assert got.source == world.url("alpha")
    assert got.path == tmp_path / "checkouts" / got.commit


@pytest.mark.parametrize("length", [7, 12, 40])
def test_commit_sha_full_or_abbreviated(world: PackWorld, tmp_path: Path, length: int) -> None:
    sha = world.shas["alpha", "1.0.0"]
    got = resolve(world, tmp_path, f"{world.url('alpha')}={sha[:length]}", skip=True)["alpha"]
    assert got.commit == sha
    assert head(got.path) == sha
    assert (got.path / "actions" / "run.yaml").is_file()


def test_local_path_source(world: PackWorld, tmp_path: Path) -> None:
    got = resolve(world, tmp_path, "repos/beta=1.0.0", skip=True)["beta"]
    assert got.commit == world.shas["beta", "1.0.0"]
    assert got.source == str(world.repos["beta"])


def test_index_name_without_ref_takes_the_index_version(world: PackWorld,
                                                        tmp_path: Path) -> None:
    got = resolve(world, tmp_path, "beta")["beta"]
    assert got.commit == world.shas["beta", "2.0.0"]   # annotated tag 2.0.0 peeled
    assert got.wanted == "2.0.0 (index version)"
    assert got.has_requirements is True


def test_index_name_with_ref(world: PackWorld, tmp_path: Path) -> None:
    got = resolve(world, tmp_path, "beta=1.0.0")["beta"]
    assert got.commit == world.shas["beta", "1.0.0"]
    assert got.has_requirements is False


def test_index_order_decides_which_repository_is_used(world: PackWorld,
                                                      tmp_path: Path) -> None:
    first = resolve(world, tmp_path, "beta", indexes=world.indexes)["beta"]
    assert first.source == world.url("beta")
    flipped = resolve(world, tmp_path, "beta", indexes=world.indexes[::-1])["beta"]
    assert (flipped.source, flipped.version) == (world.url("beta_fork"), "9.9.9")


def test_dependencies_are_followed(world: PackWorld, tmp_path: Path) -> None:
    got = resolve(world, tmp_path, "alpha=v2.0.0")
    assert list(got) == ["alpha", "beta"]
    assert got["beta"].commit == world.shas["beta", "1.0.0"]
    assert got["beta"].requested_by == "pack 'alpha'"
    assert got["beta"].wanted == "1.0.0"


def test_dependency_of_a_dependency(world: PackWorld, tmp_path: Path) -> None:
    got = resolve(world, tmp_path, "gamma")
    assert list(got) == ["gamma", "alpha", "beta"]
    assert got["alpha"].commit == world.shas["alpha", "2.0.0"]
    assert got["alpha"].requested_by == "pack 'gamma'"
    assert got["beta"].requested_by == "pack 'alpha'"


def test_same_pack_from_two_sources_at_one_commit_is_deduplicated(world: PackWorld,
                                                                  tmp_path: Path) -> None:
    # The spec takes beta 1.0.0 from the index; alpha@feature wants it by file:// URL.
    got = resolve(world, tmp_path, "beta=1.0.0", "alpha=feature")
    assert list(got) == ["beta", "alpha"]
    assert got["beta"].requested_by == "spec item 0"


def test_dependency_without_ref_takes_the_pack_already_chosen(world: PackWorld,
                                                              tmp_path: Path) -> None:
    # gamma depends on plain `alpha` (index version 2.0.0); the spec's branch pin stands.
    got = resolve(world, tmp_path, "alpha=feature", "gamma")
    assert got["alpha"].commit == world.shas["alpha", "feature"]
    assert got["alpha"].requested_by == "spec item 0"


def test_conflict_names_both_requesters(world: PackWorld, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        resolve(world, tmp_path, "beta=2.0.0", "alpha=2.0.0")
    message = str(err.value)
    assert message.startswith("pack 'beta' wanted at 2.0.0 (")
    assert "by spec item 0 and at 1.0.0 (" in message
    assert message.split(") by ")[-1].startswith("pack 'alpha'")
    assert world.shas["beta", "1.0.0"][:12] in message
    assert err.value.exit_code == 2


def test_conflict_between_two_spec_entries(world: PackWorld, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"by spec item 0 and at 1\.0\.0 .* by spec item 1"):
        resolve(world, tmp_path, "alpha=v2.0.0", f"{world.url('alpha')}=1.0.0")


def test_same_pack_twice_at_the_same_commit_is_fine(world: PackWorld, tmp_path: Path) -> None:
    got = resolve(world, tmp_path, "alpha=2.0.0", f"{world.url('alpha')}=v2.0.0",
                  f"repos/alpha={world.shas['alpha', '2.0.0'][:10]}", skip=True)
    assert list(got) == ["alpha"]


def test_skip_dependencies(world: PackWorld, tmp_path: Path) -> None:
    got = resolve(world, tmp_path, "beta=2.0.0", "alpha=2.0.0", skip=True)
    assert list(got) == ["beta", "alpha"]
    assert got["beta"].commit == world.shas["beta", "2.0.0"]


def test_unknown_ref_suggests_close_names(world: PackWorld, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"'featur' is not a branch.*'feature'\?"):
        resolve(world, tmp_path, f"{world.url('alpha')}=featur")


def test_index_name_without_index(world: PackWorld, tmp_path: Path) -> None:
    wants = [Want(parse_source("alpha", None, "spec", None), "spec item 0")]
    with pytest.raises(ConfigError, match="index name but no pack index was given"):
        resolve_packs(wants, None, tmp_path)


def test_a_bad_dependency_names_the_pack_yaml_entry(tmp_path: Path) -> None:
    app = plain_pack(tmp_path / "app", "app", dependencies=["../lib"])
    (tmp_path / "lib").mkdir()
    with pytest.raises(ConfigError) as err:
        resolve_plain(tmp_path / "cache", str(app))
    assert re.fullmatch(rf"{app}@sha256:[0-9a-f]{{12}}: pack\.yaml dependencies\[0\]: "
                        rf"{tmp_path}/lib is not a pack: .*", str(err.value)), str(err.value)
    assert not (tmp_path / "cache").exists()


def test_unreadable_repository_is_a_source_error(world: PackWorld, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / ".git").write_text("gitdir: /nowhere\n", encoding="utf-8")
    with pytest.raises(SourceError, match="git fetch failed"):
        resolve(world, tmp_path / "cache", broken.as_uri())


def test_invalid_pack_yaml_names_source_and_commit(tmp_path: Path) -> None:
    repo = tmp_path / "bad"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    sha = commit(repo, {"pack.yaml": pack_yaml("Bad Pack", "1.0.0")}, "bad")
    wants = [Want(parse_source(repo.as_uri(), None, "spec", None), "spec item 0")]
    with pytest.raises(ConfigError) as err:
        resolve_packs(wants, None, tmp_path / "cache")
    assert str(err.value).startswith(
        f"spec item 0: {repo.as_uri()}@{sha[:12]}: pack.yaml: name 'Bad Pack'")


def test_cache_is_reused_and_follows_new_commits(tmp_path: Path) -> None:
    repo = tmp_path / "moving"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    first = commit(repo, {"pack.yaml": pack_yaml("moving", "1.0.0")}, "one")
    wants = [Want(parse_source(str(repo), None, "spec", None), "spec item 0")]
    cache = tmp_path / "cache"
    got = resolve_packs(wants, None, cache)[0]
    assert got.commit == first
    stamp = os.stat(got.path).st_mtime_ns
    assert resolve_packs(wants, None, cache)[0].path.stat().st_mtime_ns == stamp
    second = commit(repo, {"pack.yaml": pack_yaml("moving", "1.1.0")}, "two")
    again = resolve_packs(wants, None, cache)[0]
    assert (again.commit, again.version) == (second, "1.1.0")
    assert len(list((cache / "repos").iterdir())) == 1


def test_commands_resolve_reads_the_spec(world: PackWorld, tmp_path: Path) -> None:
    spec = tmp_path / "packs.yml"
    spec.write_text(
        "base: {image: stackstorm/st2, tags: ['3.9.0']}\n"
        "pack_image:\n  image: example/st2packs\n  version: '1.0.0'\n  packs:\n"
        f"    - pack: {world.url('alpha')}\n      ref: v2.0.0\n", encoding="utf-8")
    loaded, packs = commands.resolve(spec, world.indexes, tmp_path / "cache")
    assert loaded.image_tag("3.9.0") == "example/st2packs:1.0.0-3.9.0"
    rows = commands.rows(packs)
    assert [row[0] for row in rows] == ["alpha", "beta"]
    assert rows[0][4] == f"spec {spec}: pack_image.packs[0]"
    assert (tmp_path / "cache" / "packs" / "checkouts").is_dir()


def plain_pack(path: Path, name: str, version: str = "1.0.0", **extra: object) -> Path:
    """A pack directory that is not a git repository."""
    path.mkdir(parents=True)
    (path / "pack.yaml").write_text(pack_yaml(name, version, **extra), encoding="utf-8")
    (path / "actions").mkdir()
    (path / "actions" / "run.sh").write_text("#!/bin/sh\necho hi\n", encoding="utf-8")
    return path


def resolve_plain(cache: Path, *packs: str) -> dict[str, ResolvedPack]:
    wants = [Want(parse_source(p, None, "spec", None), f"spec item {i}")
             for i, p in enumerate(packs)]
    return {p.ref: p for p in resolve_packs(wants, None, cache)}


def test_plain_directory_is_pinned_by_content(tmp_path: Path) -> None:
    src = plain_pack(tmp_path / "hello", "hello")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "x.pyc").write_bytes(b"junk")
    first = resolve_plain(tmp_path / "cache", str(src))["hello"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first.commit)
    assert first.path == tmp_path / "cache" / "snapshots" / first.commit.removeprefix("sha256:")
    assert (first.path / "actions" / "run.sh").read_text() == "#!/bin/sh\necho hi\n"
    assert not (first.path / "__pycache__").exists()
    assert resolve_plain(tmp_path / "cache", src.as_uri())["hello"].commit == first.commit

    # The executable bit is content: a pack action must keep it, and the hash must see it.
    (src / "actions" / "run.sh").chmod(0o755)
    moved = resolve_plain(tmp_path / "cache", str(src))["hello"]
    assert moved.commit != first.commit
    assert os.access(moved.path / "actions" / "run.sh", os.X_OK)
    assert (first.path / "actions" / "run.sh").read_text() == "#!/bin/sh\necho hi\n"


def test_plain_directory_refuses_a_ref(tmp_path: Path) -> None:
    src = plain_pack(tmp_path / "hello", "hello")
    with pytest.raises(ConfigError, match=r"is a directory, not a git repository, so ref "
                                          r"'1\.0\.0' cannot be checked out"):
        resolve_plain(tmp_path / "cache", f"{src}=1.0.0")


def test_missing_local_path_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"spec item 0: .*/absent does not exist"):
        resolve_plain(tmp_path / "cache", str(tmp_path / "absent"))


def test_plain_directory_dependencies_are_relative_to_the_pack(tmp_path: Path) -> None:
    plain_pack(tmp_path / "packs" / "lib", "lib", "2.0.0")
    app = plain_pack(tmp_path / "packs" / "app", "app", dependencies=["../lib"])
    got = resolve_plain(tmp_path / "cache", str(app))
    assert list(got) == ["app", "lib"]
    assert got["lib"].version == "2.0.0"
    assert got["lib"].requested_by == "pack 'app'"
    assert got["lib"].source == str(tmp_path / "packs" / "lib")


def test_conflict_with_a_plain_directory_shows_short_hashes(world: PackWorld,
                                                            tmp_path: Path) -> None:
    plain_pack(tmp_path / "beta", "beta", "3.0.0")
    with pytest.raises(ConfigError, match=r"pack 'beta' wanted at its content on disk "
                                          r"\(sha256:[0-9a-f]{12}\) by spec item 0 and at "
                                          r"2\.0\.0 \([0-9a-f]{12}\) by spec item 1"):
        resolve(world, tmp_path / "cache", str(tmp_path / "beta"), "beta=2.0.0")


def test_the_offline_example_resolves_without_an_index(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "packs.yml"
    _, packs = commands.resolve(example, [], tmp_path / "cache")
    got = {p.ref: p for p in packs}
    assert list(got) == ["hello", "textutil"]
    assert got["textutil"].requested_by == "pack 'hello'"
    assert all(p.commit.startswith("sha256:") and p.has_requirements for p in packs)


# --- the resolution rules, one test each ------------------------------------------------

@pytest.mark.parametrize("sources", [
    ("{plain}/beta", "{plain}/beta2"),                  # two plain directories
    ("{plain}/beta", "{beta}=2.0.0"),                   # a directory and a git ref
    ("beta", "{beta_fork}"),                            # an index name and a URL
    ("{beta_fork}", "beta"),                            # a URL and an index name
])
def test_one_pack_at_two_versions_is_a_conflict_whatever_the_sources(
        world: PackWorld, tmp_path: Path, sources: tuple[str, str]) -> None:
    plain_pack(tmp_path / "beta", "beta", "3.0.0")
    plain_pack(tmp_path / "beta2", "beta", "4.0.0")
    urls = {"beta": world.url("beta"), "beta_fork": world.url("beta_fork"),
            "plain": str(tmp_path)}
    packs = [s.format(**urls) for s in sources]
    with pytest.raises(ConfigError, match=r"^pack 'beta' wanted at .* by spec item 0 and at "
                                          r".* by spec item 1; pin one version"):
        resolve(world, tmp_path / "cache", *packs, indexes=[world.indexes[0]])


def test_the_same_entry_listed_twice_is_one_request(world: PackWorld, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yml"
    spec.write_text(
        "base: {image: stackstorm/st2, tags: ['3.9.0']}\n"
        "pack_image:\n  image: example/packs\n  version: '1.0.0'\n  packs:\n"
        "    - pack: alpha=2.0.0\n    - {pack: alpha, ref: '2.0.0'}\n    - pack: alpha=2.0.0\n",
        encoding="utf-8")
    _, packs = commands.resolve(spec, world.indexes, tmp_path / "cache")
    assert [(p.ref, p.requested_by) for p in packs] == [
        ("alpha", f"spec {spec}: pack_image.packs[0]"),
        ("beta", "pack 'alpha'")]


def _cyclic(root: Path, names: list[str]) -> list[str]:
    """Repositories where each pack depends on the next by file:// URL, the last on the
    first: their URLs."""
    urls = [(root / name).as_uri() for name in names]
    for i, name in enumerate(names):
        repo = root / name
        repo.mkdir(parents=True)
        git(repo, "init", "--quiet", "--initial-branch=main")
        commit(repo, {"pack.yaml": pack_yaml(name, "1.0.0",
                                             dependencies=[urls[(i + 1) % len(names)]])}, name)
    return urls


@pytest.mark.parametrize(("names", "path"), [
    (["one", "two", "three"], "one -> two -> three -> one"),
    (["selfish"], "selfish -> selfish"),
])
def test_a_dependency_cycle_is_reported_with_its_path(tmp_path: Path, names: list[str],
                                                      path: str) -> None:
    urls = _cyclic(tmp_path / "repos", names)
    wants = [Want(parse_source(urls[0], None, "spec", None), "spec item 0")]
    with pytest.raises(ConfigError, match=rf"^pack dependency cycle: {path}; remove one"):
        resolve_packs(wants, None, tmp_path / "cache")


def test_a_cycle_through_a_deduplicated_request_is_still_found(tmp_path: Path) -> None:
    urls = _cyclic(tmp_path / "repos", ["one", "two"])
    # The spec names both, so `two -> one` meets a request already made.
    wants = [Want(parse_source(url, None, "spec", None), f"spec item {i}")
             for i, url in enumerate(urls)]
    with pytest.raises(ConfigError, match=r"^pack dependency cycle: one -> two -> one;"):
        resolve_packs(wants, None, tmp_path / "cache")


def test_a_diamond_is_not_a_cycle(world: PackWorld, tmp_path: Path) -> None:
    # gamma -> alpha -> beta, and the spec asks for beta and gamma itself.
    got = resolve(world, tmp_path, "gamma", "beta=1.0.0")
    assert sorted(got) == ["alpha", "beta", "gamma"]


def test_a_failing_pack_yaml_writes_nothing_to_the_cache(world: PackWorld,
                                                         tmp_path: Path) -> None:
    repo = tmp_path / "bad"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    commit(repo, {"pack.yaml": pack_yaml("bad", "1.0")}, "bad")
    plain_pack(tmp_path / "plain" / "worse", "worse", "x")
    cache = tmp_path / "cache"
    for bad in (repo.as_uri(), str(tmp_path / "plain" / "worse")):
        with pytest.raises(ConfigError, match=r"pack\.yaml: field 'version'"):
            resolve(world, cache, bad)
        assert not cache.exists()
    # A cache that existed keeps exactly what it had.
    resolve(world, cache, "beta=1.0.0")
    before = sorted(p.relative_to(cache) for p in cache.rglob("*"))
    with pytest.raises(ConfigError):
        resolve(world, cache, "beta=1.0.0", repo.as_uri())
    assert sorted(p.relative_to(cache) for p in cache.rglob("*")) == before


def test_a_failing_spec_writes_nothing_to_the_cache(world: PackWorld, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yml"
    spec.write_text("base: {image: stackstorm/st2, tags: ['3.9.0']}\n"
                    "pack_image: {image: x/y, version: '1', packs: [{pack: alpha, reff: x}]}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"pack_image\.packs\[0\]: unknown key 'reff'"):
        commands.resolve(spec, world.indexes, tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_an_index_version_is_the_tag_not_a_branch_of_that_name(tmp_path: Path) -> None:
    repo = tmp_path / "repos" / "tagged"
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    tagged = commit(repo, {"pack.yaml": pack_yaml("tagged", "2.0.0")}, "2.0.0")
    git(repo, "tag", "v2.0.0")
    git(repo, "checkout", "--quiet", "-b", "2.0.0")
    commit(repo, {"pack.yaml": pack_yaml("tagged", "2.0.1")}, "a branch named like it")
    git(repo, "checkout", "--quiet", "main")
    index = write_index(tmp_path / "index.json", {"tagged": index_entry(
        "tagged", repo.as_uri(), "2.0.0", versions=["2.0.0", "1.0.0"])})
    for text in ("tagged", "tagged=2.0.0", "tagged=v2.0.0"):
        wants = [Want(parse_source(text, None, "spec", None), "spec item 0")]
        got = resolve_packs(wants, Index([str(index)]), tmp_path / "cache")
        assert got[0].commit == tagged, text
    # A git URL with the same ref keeps git's order (tags, then branches, then v-tags).
    wants = [Want(parse_source(f"{repo.as_uri()}=2.0.0", None, "spec", None), "spec item 0")]
    assert resolve_packs(wants, None, tmp_path / "cache")[0].version == "2.0.1"
    wants = [Want(parse_source("tagged=1.0.0", None, "spec", None), "spec item 0")]
    with pytest.raises(SourceError, match=r"the index lists version 1\.0\.0 but the "
                                          r"repository has no tag 1\.0\.0 or v1\.0\.0; .*"
                                          r"\(tags: v2\.0\.0\)"):
        resolve_packs(wants, Index([str(index)]), tmp_path / "cache")


# --- bad input: one line naming the spec field, and the cache left as it was ---------------

def _bad_world(root: Path) -> dict[str, str]:
    """Pack sources that are bad input, each kind once: their spec `pack` values."""
    bad_yaml = init_repo(root / "bad-yaml")
    commit(bad_yaml, {"pack.yaml": "name: x\n  oops: [\n"}, "bad")
    no_meta = init_repo(root / "no-meta")
    commit(no_meta, {"README.md": "not a pack\n"}, "no pack")
    plain_pack(root / "plain-bad-yaml", "p")
    (root / "plain-bad-yaml" / "pack.yaml").write_text("name: [x\n", encoding="utf-8")
    plain_pack(root / "meta-dir", "m")
    (root / "meta-dir" / "pack.yaml").unlink()
    (root / "meta-dir" / "pack.yaml" / "x").mkdir(parents=True)
    (root / "not-a-pack").mkdir()
    (root / "broken").mkdir()
    (root / "broken" / ".git").write_text("gitdir: /nowhere\n", encoding="utf-8")
    return {"bad_yaml": bad_yaml.as_uri(), "no_meta": no_meta.as_uri(),
            "plain_bad_yaml": str(root / "plain-bad-yaml"), "meta_dir": str(root / "meta-dir"),
            "not_a_pack": str(root / "not-a-pack"), "broken": str(root / "broken"),
            "meta_file": str(root / "meta-dir" / "actions" / "run.sh")}


BAD_INPUT = {
    "conflicting refs": (["alpha=1.0.0", "alpha=v2.0.0"], r"pack 'alpha' wanted at 1\.0\.0"),
    "git ref that does not exist": (["{alpha}=v9.9.9"],
                                    r"packs\[0\]\.pack: .*'v9\.9\.9' is not a branch, tag"),
    "index version that does not exist": (["beta=1.0.0", "alpha=7.7.7"],
                                          r"packs\[1\]\.pack: .*'7\.7\.7' is not a branch"),
    "invalid pack.yaml in git": (["beta=1.0.0", "{bad_yaml}"],
                                 r"packs\[1\]\.pack: .*: pack\.yaml: not valid YAML: mapping "
                                 r"values are not allowed here at line 2, column 7$"),
    "invalid pack.yaml on disk": (["{plain_bad_yaml}"],
                                  r"packs\[0\]\.pack: .*@sha256:[0-9a-f]{12}: pack\.yaml: not "
                                  r"valid YAML: .* at line 2, column 1$"),
    "git repository that is not a pack": (["{no_meta}"],
                                          r"packs\[0\]\.pack: .*@[0-9a-f]{12}: no pack\.yaml"),
    "directory that is not a pack": (["beta=1.0.0", "{not_a_pack}"],
                                     r"packs\[1\]\.pack: .*/not-a-pack is not a pack: it has no "
                                     r"pack\.yaml file at its top"),
    "pack.yaml that is a directory": (["{meta_dir}"], r"packs\[0\]\.pack: .*/meta-dir is not a "
                                                      r"pack: it has no pack\.yaml file"),
    "a file, not a directory": (["{meta_file}"], r"packs\[0\]\.pack: .*/run\.sh is not a "
                                                 r"directory; a local pack is a directory "
                                                 r"holding pack\.yaml"),
    "index name in no index": (["alpah"], r"packs\[0\]\.pack: pack 'alpah' is in no pack "
                                          r"index .*did you mean 'alpha'"),
    "broken git repository": (["{broken}"], r"packs\[0\]\.pack: .*/broken: git fetch failed: "
                                            r"fatal: "),
    "outside the tree": (["../../../../../../../../../../etc"],
                         r"packs\[0\]\.pack: /etc is not a pack"),
}


def _files(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*")) if cache.exists() else []


@pytest.fixture(scope="module")
def bad_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # Made once: the cases only read these sources.
    return _bad_world(tmp_path_factory.mktemp("bad"))


@pytest.fixture(scope="module")
def filled_cache(world: PackWorld, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding what one good resolution left (mirrors, checkouts, a snapshot)."""
    root = tmp_path_factory.mktemp("filled")
    resolve(world, root / "cache" / "packs", "gamma", str(plain_pack(root / "ok", "ok")))
    return root / "cache"


@pytest.mark.parametrize("filled", [False, True], ids=["no cache", "cache kept"])
@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_pack_sources_are_one_line_and_leave_the_cache_as_it_was(
        world: PackWorld, bad_world: dict[str, str], filled_cache: Path, tmp_path: Path,
        case: str, filled: bool) -> None:
    sources = {"alpha": world.url("alpha"), **bad_world}
    packs, message = BAD_INPUT[case]
    spec = tmp_path / "spec.yml"
    spec.write_text(
        "base: {image: stackstorm/st2, tags: ['3.9.0']}\n"
        "pack_image:\n  image: example/packs\n  version: '1.0.0'\n  packs:\n"
        + "".join(f"    - pack: '{p.format(**sources)}'\n" for p in packs), encoding="utf-8")
    cache = tmp_path / "cache"
    if filled:
        shutil.copytree(filled_cache, cache, symlinks=True)
    before = _files(cache)
    with pytest.raises((ConfigError, SourceError)) as err:
        commands.resolve(spec, world.indexes, cache)
    said = str(err.value)
    assert err.value.exit_code == 2
    assert "\n" not in said, said
    assert len(said) < 600, said
    assert re.search(message, said), said
    if "wanted at" not in message:
        assert said.startswith(f"{spec}: pack_image.packs["), said
    assert _files(cache) == before
