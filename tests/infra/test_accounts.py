"""Users and groups the package creates: the st2 service user, stanley (who runs actions)
and the st2packs group that may write packs and their virtualenvs."""

from __future__ import annotations

from tests.infra.facts import Accounts
from tests.infra.node import Node

# useradd --system picks ids below UID_MIN; login.defs says where that is.
UID_MIN_DEFAULT = 1000
NO_LOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")


def _uid_min(node: Node) -> int:
    found = node.host.run("awk '$1 == \"UID_MIN\" {print $2}' /etc/login.defs").stdout.strip()
    return int(found) if found.isdigit() else UID_MIN_DEFAULT


def test_system_users(node: Node, accounts: Accounts) -> None:
    for name in accounts.system_users:
        user = node.host.user(name)
        assert user.exists, f"no user {name}"
        assert user.uid < _uid_min(node), f"{name} (uid {user.uid}) is not a system user"
        assert user.shell in NO_LOGIN_SHELLS, f"{name} can log in (shell {user.shell})"


def test_users_with_homes(node: Node, accounts: Accounts) -> None:
    for name, home in accounts.homes.items():
        user = node.host.user(name)
        assert user.exists, f"no user {name}"
        assert user.home == home
        directory = node.host.file(home)
        assert directory.is_directory, f"{name}'s home {home} does not exist"
        assert directory.user == name, f"{home} belongs to {directory.user}, not {name}"


def test_groups_and_members(node: Node, accounts: Accounts) -> None:
    for group, members in accounts.groups.items():
        assert node.host.group(group).exists, f"no group {group}"
        for member in members:
            groups = node.host.user(member).groups
            assert group in groups, f"{member} is not in {group} (only {groups})"
