# shellcheck shell=sh
# What installing, removing and purging st2 does to the system, for the deb maintainer scripts
# and the rpm scriptlets alike. scripts/maintainer-lib puts ST2_VENV, ST2_UNITS, st2_dirs (rows
# of packaging/st2/dirs) and st2_shared_trees (of packaging/st2/source-files) in front of this
# file at build time.

ST2_STATE=/var/lib/st2
# Accounts this package created (and so the only ones purge deletes), one "kind name" a line.
ST2_ACCOUNTS=$ST2_STATE/created-accounts

st2_booted() {
  [ -d /run/systemd/system ]
}

st2_note_account() {
  mkdir -p "$ST2_STATE"
  echo "$1 $2" >>"$ST2_ACCOUNTS"
}

# st2_add_user NAME COMMENT USERADD-OPTION...: create NAME and a group of the same name.
st2_add_user() {
  name=$1
  comment=$2
  shift 2
  getent passwd "$name" >/dev/null && return 0
  if getent group "$name" >/dev/null; then
    useradd --gid "$name" --comment "$comment" "$@" "$name"
  else
    useradd --user-group --comment "$comment" "$@" "$name"
  fi
  st2_note_account user "$name"
}

st2_accounts() {
  if ! getent group st2packs >/dev/null; then
    groupadd --system st2packs
    st2_note_account group st2packs
  fi
  nologin=/usr/sbin/nologin
  [ -x "$nologin" ] || nologin=/sbin/nologin
  st2_add_user st2 "StackStorm services" --system --no-create-home --home-dir /opt/stackstorm \
    --shell "$nologin"
  # The services install packs and their virtualenvs.
  case " $(id -nG st2) " in
    *" st2packs "*) ;;
    *) usermod --append --groups st2packs st2 ;;
  esac
  st2_add_user stanley "StackStorm actions" --create-home --home-dir /home/stanley \
    --shell /bin/bash
}

st2_configure() {
  st2_accounts
  st2_dirs | while read -r path mode owner group _; do
    mkdir -p "$path"
    chown "$owner:$group" "$path"
    chmod "$mode" "$path"
  done
  # The packs and examples the package ships belong to their group, as the packs it installs
  # later do (dpkg unpacks them root-owned and not group-writable, on upgrades too).
  st2_shared_trees | while read -r path group; do
    [ -e "$path" ] || continue
    chgrp -R "$group" "$path"
    chmod -R g+rwX "$path"
    find "$path" -type d -exec chmod g+s {} +
  done
  [ -e /etc/st2/htpasswd ] || : >/etc/st2/htpasswd
  chown st2:st2 /etc/st2/htpasswd
  chmod 0600 /etc/st2/htpasswd
  if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/st2.conf
  else
    mkdir -p /run/st2
    chown st2:st2 /run/st2
  fi
  command -v systemctl >/dev/null 2>&1 || return 0
  if st2_booted; then
    systemctl daemon-reload
  fi
  # Enabled, not started: st2.conf must point at the message bus and databases first.
  # shellcheck disable=SC2086 # ST2_UNITS is a list of names
  systemctl enable $ST2_UNITS || echo "st2: warning: could not enable $ST2_UNITS" >&2
  if [ "${1:-}" = upgrade ] && st2_booted; then
    # shellcheck disable=SC2086
    systemctl try-restart $ST2_UNITS
  fi
}

st2_stop() {
  command -v systemctl >/dev/null 2>&1 || return 0
  if st2_booted; then
    # shellcheck disable=SC2086
    systemctl stop $ST2_UNITS || true
  fi
  # shellcheck disable=SC2086
  systemctl disable $ST2_UNITS || true
}

# After the package's files are gone: what the services compiled or wrote into the venv.
st2_cleanup() {
  rm -rf "$ST2_VENV"
  if command -v systemctl >/dev/null 2>&1 && st2_booted; then
    systemctl daemon-reload
  fi
}

# Purging the deb (rpm has no purge: erasing it is removing, which keeps all this).
st2_purge() {
  rm -rf /run/st2 /etc/st2/htpasswd
  st2_dirs | sort -r | while read -r path _ _ _ purge; do
    case $purge in
      rm) rm -rf "$path" ;;
      rmdir) rmdir "$path" 2>/dev/null || true ;;
    esac
  done
  if [ -f "$ST2_ACCOUNTS" ]; then
    # Users first: their own groups go with them, then st2packs can go.
    grep '^user ' "$ST2_ACCOUNTS" | while read -r _ name; do
      if getent passwd "$name" >/dev/null; then
        if [ "$name" = stanley ]; then userdel --remove "$name"; else userdel "$name"; fi
      fi
    done
    grep '^group ' "$ST2_ACCOUNTS" | while read -r _ name; do
      if getent group "$name" >/dev/null; then groupdel "$name"; fi
    done
  fi
  rm -rf "$ST2_STATE"
}
