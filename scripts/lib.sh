# shellcheck shell=bash disable=SC2034  # variables are read by the scripts that source it
# Helpers shared by scripts/test and scripts/serve. Source it, don't run it.
#
# Environment (see odoo_resolve for the order in which Odoo is looked for):
#   ODOO_PYTHON              a Python that imports Odoo 18.0: use it, build nothing
#   ODOO_SOURCE              Odoo 18.0 to build .venv/ from: a local source tree
#                            (git checkout or unpacked nightly) or a git URL
#                            (cloned, branch 18.0); default, when no Python
#                            imports Odoo 18: https://github.com/odoo/odoo.git
#   ODOO_VENV_PYTHON         the Python that creates .venv/; default: the first
#                            of python3.12, python3.11, python3.10, python3
#   ODOO_VENV_LDAP=1         also install python-ldap in .venv/ (needs libldap2-dev,
#                            libsasl2-dev)
#   CRM_RELATIONSHIP_NO_ODOO_DOWNLOAD=1
#                            never clone the default ODOO_SOURCE (.ci/run sets it)
#   ODOO_EXTRA_ADDONS_PATH   optional comma-separated addons folders put
#                            between Odoo's own addons and this repository
#                            (Odoo Enterprise, or the root addons/ folder of an
#                            Odoo git checkout whose odoo/addons holds only base)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDON=crm_relationship
ODOO_PYTHON="${ODOO_PYTHON:-}"
VENV_DIR="$REPO_ROOT/.venv"
ODOO_DEFAULT_SOURCE=https://github.com/odoo/odoo.git
ODOO_BRANCH=18.0
# A relative ODOO_SOURCE folder is read from where the script was called (the
# scripts then change to the repository root).
case ${ODOO_SOURCE:-} in
    '' | /* | *://* | git@*:*) ;;
    *) [ -d "$ODOO_SOURCE" ] && ODOO_SOURCE=$(cd "$ODOO_SOURCE" && pwd) ;;
esac

# Tools run by python3 (the linters need no Odoo); versions installed when
# missing. ruff and pylint-odoo are also replaced when another version is
# installed, since their verdicts depend on the version.
TOOLS_PYTHON=python3
RUFF_VERSION=0.17.6
PYLINT_ODOO_VERSION=9.1.3
PYTEST_VERSION=9.0.3
HYPOTHESIS_VERSION=6.155.2
PYTEST_ODOO_VERSION=2.3.0
WEBSOCKET_CLIENT_VERSION=1.9.2
# scripts/gen_readme.py renders index.html with it: Odoo 18's pin for Python 3.11+
DOCUTILS_VERSION=0.20.1

header() {
    printf '\n==== %s ====\n' "$*"
}

note() {
    printf '%s\n' "$*"
}

# die MESSAGE: print MESSAGE on stderr and exit 1.
die() {
    printf 'FATAL: %s\n' "$*" >&2
    exit 1
}

# run_privileged CMD...: run CMD as root (directly, or through password-less sudo).
run_privileged() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 1
    fi
}

# as_postgres CMD...: run CMD as the OS user postgres, from / (postgres may not
# be allowed into the current directory).
as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        (cd / && "$@")
    elif [ "$(id -u)" = 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            (cd / && runuser -u postgres -- "$@")
        else
            (cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
        fi
    elif command -v sudo >/dev/null 2>&1 && sudo -n -u postgres true 2>/dev/null; then
        (cd / && sudo -n -u postgres "$@")
    else
        return 1
    fi
}

# dist_version PYTHON DIST: print the installed version of distribution DIST
# for PYTHON, nothing when it is not installed.
dist_version() {
    "$1" - "$2" 2>/dev/null <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version

try:
    print(version(sys.argv[1]))
except PackageNotFoundError:
    pass
PY
}

# pip_ensure PYTHON DIST VERSION [exact]: pip-install DIST==VERSION for PYTHON
# when DIST is missing, or (with "exact") when another version is installed.
pip_ensure() {
    local py=$1 dist=$2 version=$3 mode=${4:-}
    local have
    have=$(dist_version "$py" "$dist")
    if [ -n "$have" ] && { [ "$mode" != exact ] || [ "$have" = "$version" ]; }; then
        return 0
    fi
    note "Installing $dist==$version for $py (found: ${have:-none})"
    "$py" -m pip install --quiet --disable-pip-version-check "$dist==$version" \
        || "$py" -m pip install --quiet --disable-pip-version-check \
            --break-system-packages "$dist==$version"
}

# odoo_check: succeed when $ODOO_PYTHON imports Odoo 18; otherwise set
# ODOO_UNAVAILABLE to a one-line reason and fail.
odoo_check() {
    local out
    ODOO_UNAVAILABLE=
    if ! command -v "$ODOO_PYTHON" >/dev/null 2>&1; then
        ODOO_UNAVAILABLE="ODOO_PYTHON=$ODOO_PYTHON is not an executable"
        return 1
    fi
    if ! out=$("$ODOO_PYTHON" -c 'import odoo, odoo.release; assert odoo.release.version_info[0] == 18, odoo.release.version' 2>&1); then
        ODOO_UNAVAILABLE="$ODOO_PYTHON cannot import Odoo 18 ($(printf '%s\n' "$out" | tail -n 1))"
        return 1
    fi
}

# odoo_resolve: set ODOO_PYTHON to the Python that runs Odoo 18, in this order:
#   1. ODOO_PYTHON when set (nothing is built);
#   2. ODOO_SOURCE when set: .venv/ built from it (reused when already built
#      from the same source);
#   3. .venv/ built by an earlier run;
#   4. python3 when it imports Odoo 18;
#   5. .venv/ built from the official 18.0 branch (needs the network; not with
#      CRM_RELATIONSHIP_NO_ODOO_DOWNLOAD=1).
# Bad input (ODOO_SOURCE not an Odoo 18.0 tree, Python too old, a failed
# build) stops with one FATAL line. When no Odoo can be had (5 is off or the
# clone fails), set ODOO_UNAVAILABLE to the reason and fail.
odoo_resolve() {
    ODOO_UNAVAILABLE=
    if [ -n "$ODOO_PYTHON" ]; then
        odoo_check
        return
    fi
    if [ -n "${ODOO_SOURCE:-}" ]; then
        venv_ensure "$ODOO_SOURCE" || exit 1
        return 0
    fi
    if venv_ready; then
        ODOO_PYTHON=$VENV_DIR/bin/python
        return 0
    fi
    ODOO_PYTHON=python3
    if odoo_check; then
        return 0
    fi
    local no_odoo=$ODOO_UNAVAILABLE
    ODOO_PYTHON=
    if [ "${CRM_RELATIONSHIP_NO_ODOO_DOWNLOAD:-}" = 1 ]; then
        ODOO_UNAVAILABLE="$no_odoo; set ODOO_SOURCE to an Odoo 18.0 tree or git URL to build .venv/"
        return 1
    fi
    note "No Python imports Odoo 18 ($no_odoo): building .venv/ from $ODOO_DEFAULT_SOURCE"
    venv_ensure "$ODOO_DEFAULT_SOURCE" soft
}

# venv_ready [SOURCE]: succeed when .venv/ was fully built (from SOURCE, when
# given, and with ODOO_VENV_PYTHON and ODOO_VENV_LDAP=1 when they are set) and
# imports Odoo 18.
venv_ready() {
    local stamp="$VENV_DIR/.crm_relationship-built" source= built_python= ldap=
    [ -f "$stamp" ] && [ -x "$VENV_DIR/bin/python" ] || return 1
    { read -r source; read -r built_python; read -r ldap; } <"$stamp" || true
    if { [ -n "${1:-}" ] && [ "$source" != "$1" ]; } \
        || { [ -n "${ODOO_VENV_PYTHON:-}" ] && [ "$built_python" != "$ODOO_VENV_PYTHON" ]; } \
        || { [ "${ODOO_VENV_LDAP:-}" = 1 ] && [ "$ldap" != 1 ]; }; then
        return 1
    fi
    "$VENV_DIR/bin/python" -c 'import odoo.release as r; assert r.version_info[0] == 18' \
        >/dev/null 2>&1
}

# venv_python: print the Python that creates .venv/ (ODOO_VENV_PYTHON, else the
# first of python3.12, python3.11, python3.10, python3 that runs and has venv);
# stop when it is older than Odoo 18 supports.
venv_python() {
    local py candidates=(python3.12 python3.11 python3.10 python3)
    [ -n "${ODOO_VENV_PYTHON:-}" ] && candidates=("$ODOO_VENV_PYTHON")
    for py in "${candidates[@]}"; do
        "$py" -c 'import venv, ensurepip' >/dev/null 2>&1 || continue
        if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
            die "$(command -v "$py") is Python $("$py" -c 'import platform; print(platform.python_version())'), older than Odoo 18 supports (3.10 to 3.12): install python3.12 (or 3.11, 3.10) or set ODOO_VENV_PYTHON to one."
        fi
        if ! "$py" -c 'import sys; sys.exit(sys.version_info >= (3, 13))'; then
            note "Python $("$py" -c 'import platform; print(platform.python_version())') is newer than Odoo 18 supports (3.10 to 3.12): trying anyway; if pip fails, install python3.12 and set ODOO_VENV_PYTHON to it." >&2
        fi
        command -v "$py"
        return 0
    done
    die "No ${ODOO_VENV_PYTHON:-python3} with the venv module to build .venv/: install Python 3.10 to 3.12 with venv (Debian: apt-get install python3-venv) or set ODOO_VENV_PYTHON."
}

# odoo_tree_check DIR: stop unless DIR is an Odoo 18.0 source tree.
odoo_tree_check() {
    local dir=$1 series
    series=$(sed -n 's/^version_info = (\([0-9]*\), \([0-9]*\),.*/\1.\2/p' "$dir/odoo/release.py" 2>/dev/null)
    [ "$series" = 18.0 ] && [ -f "$dir/requirements.txt" ] && [ -f "$dir/setup.py" ] \
        || die "ODOO_SOURCE=$ODOO_SOURCE_SHOWN is not an Odoo 18.0 source tree (its odoo/release.py says ${series:-nothing}, setup.py and requirements.txt are needed): point it to a checkout of $ODOO_DEFAULT_SOURCE branch $ODOO_BRANCH or an unpacked 18.0 nightly."
}

# venv_pip ARGS...: pip install into .venv/, output appended to the build log.
venv_pip() {
    "$VENV_DIR/bin/python" -m pip install --disable-pip-version-check "$@" >>"$VENV_LOG" 2>&1
}

# venv_pip_die MESSAGE: stop with MESSAGE, pip's last error and what to check.
venv_pip_die() {
    local error
    error=$(grep -E '^ERROR: ' "$VENV_LOG" | tail -n 1 | cut -c 8-)
    die "$1 (${error:+pip: $error; }see $VENV_LOG): this step needs PyPI, or PIP_INDEX_URL / PIP_FIND_LINKS pointing to a mirror or wheelhouse, and Python 3.10 to 3.12."
}

# venv_ensure SOURCE [soft]: build .venv/ with Odoo 18.0 from SOURCE (a local
# tree or a git URL) unless it is already built from it. A failed clone is a
# FATAL error, or with "soft" sets ODOO_UNAVAILABLE and fails. Anything left by
# an interrupted build is removed first, so a rerun mends it.
venv_ensure() {
    local source=$1 mode=${2:-} tree py
    ODOO_SOURCE_SHOWN=$source
    ODOO_PYTHON=$VENV_DIR/bin/python
    if venv_ready "$source"; then
        return 0
    fi
    VENV_LOG="$REPO_ROOT/.venv-build.log"
    case $source in
        *://* | git@*:*) tree= ;;
        *)
            tree=$(cd "$source" 2>/dev/null && pwd) \
                || die "ODOO_SOURCE=$source: no such folder, and not a git URL (https://..., git@host:path)."
            odoo_tree_check "$tree"
            ;;
    esac
    py=$(venv_python) || exit 1
    header "Building $VENV_DIR (Odoo 18.0 from $source, $("$py" -V)); log: $VENV_LOG"
    rm -rf "$VENV_DIR" || die "Cannot remove the unfinished $VENV_DIR: remove it by hand."
    : >"$VENV_LOG"
    "$py" -m venv "$VENV_DIR" >>"$VENV_LOG" 2>&1 \
        || die "$py -m venv $VENV_DIR failed (see $VENV_LOG): on Debian, apt-get install python3-venv."
    if [ -z "$tree" ]; then
        tree=$VENV_DIR/src/odoo
        note "Cloning $source (branch $ODOO_BRANCH, shallow) into $tree"
        if ! git clone --quiet --depth 1 --branch "$ODOO_BRANCH" "$source" "$tree" >>"$VENV_LOG" 2>&1; then
            local reason="git clone $source (branch $ODOO_BRANCH) failed (see $VENV_LOG): this step needs the network; without it, set ODOO_SOURCE to a local Odoo 18.0 tree"
            rm -rf "$VENV_DIR"
            [ "$mode" = soft ] || die "$reason."
            ODOO_UNAVAILABLE=$reason
            ODOO_PYTHON=
            return 1
        fi
        odoo_tree_check "$tree"
    fi
    # setuptools < 80 for Odoo's setup.py and the sdists that import
    # pkg_resources (cbor2 on Python 3.11), also in pip's build environments:
    # PIP_BUILD_CONSTRAINT, since recent pip (26.3 here) no longer applies
    # PIP_CONSTRAINT there.
    printf 'setuptools<80\n' >"$VENV_DIR/constraints.txt"
    export PIP_CONSTRAINT="$VENV_DIR/constraints.txt" PIP_BUILD_CONSTRAINT="$VENV_DIR/constraints.txt"
    note "Installing Odoo's requirements (PyPI)"
    venv_pip --upgrade pip 'setuptools<80' wheel || venv_pip_die "pip could not upgrade itself in $VENV_DIR"
    # psycopg2 and python-ldap build from source: taken apart below.
    grep -v -i -E '^(psycopg2|python-ldap)[ =;<>]' "$tree/requirements.txt" >"$VENV_DIR/odoo-requirements.txt"
    venv_pip -r "$VENV_DIR/odoo-requirements.txt" \
        || venv_pip_die "pip could not install Odoo's requirements into $VENV_DIR"
    grep -i -E '^psycopg2[ =;<>]' "$tree/requirements.txt" >"$VENV_DIR/psycopg2.txt"
    if ! venv_pip -r "$VENV_DIR/psycopg2.txt"; then
        note "psycopg2 cannot be built here (no pg_config or compiler): installing psycopg2-binary"
        venv_pip psycopg2-binary || venv_pip_die "pip could not install psycopg2-binary"
    fi
    if [ "${ODOO_VENV_LDAP:-}" = 1 ]; then
        grep -i -E '^python-ldap[ =;<>]' "$tree/requirements.txt" >"$VENV_DIR/ldap.txt"
        venv_pip -r "$VENV_DIR/ldap.txt" \
            || die "python-ldap did not build (see $VENV_LOG): apt-get install libldap2-dev libsasl2-dev, or unset ODOO_VENV_LDAP."
    fi
    note "Installing Odoo from $tree (editable), pytest-odoo, websocket-client and requirements.txt"
    venv_pip --no-deps --config-settings editable_mode=compat -e "$tree" \
        || venv_pip_die "pip could not install Odoo from $tree"
    venv_pip "pytest==$PYTEST_VERSION" "pytest-odoo==$PYTEST_ODOO_VERSION" \
        "websocket-client==$WEBSOCKET_CLIENT_VERSION" -r "$REPO_ROOT/requirements.txt" \
        || venv_pip_die "pip could not install pytest-odoo, websocket-client or requirements.txt"
    unset PIP_CONSTRAINT PIP_BUILD_CONSTRAINT
    odoo_check || die "$ODOO_UNAVAILABLE (see $VENV_LOG)."
    printf '%s\n' "$source" "${ODOO_VENV_PYTHON:-}" "${ODOO_VENV_LDAP:-}" \
        >"$VENV_DIR/.crm_relationship-built"
    note "Built $VENV_DIR: $("$ODOO_PYTHON" -c 'import odoo.release as r; print("Odoo", r.version)')"
}

# addon_shadow_check: stop when $ODOO_PYTHON finds another copy of the addon
# before this checkout's (one pip-installed from a wheel, say): Odoo would run
# that copy instead.
addon_shadow_check() {
    local found
    found=$("$ODOO_PYTHON" - "$ADDON" <<'PY'
import os
import sys

import odoo.addons

for path in odoo.addons.__path__:
    addon = os.path.join(path, sys.argv[1])
    if os.path.isfile(os.path.join(addon, "__manifest__.py")):
        print(os.path.realpath(addon))
        break
PY
    ) || return 0
    [ -z "$found" ] || [ "$found" = "$(cd "$REPO_ROOT/$ADDON" && pwd -P)" ] \
        || die "$ODOO_PYTHON already has $ADDON at $found, which Odoo would run instead of this checkout: $ODOO_PYTHON -m pip uninstall odoo-addon-$ADDON"
}

# odoo_addons_path: print the --addons-path value: Odoo's own addons (the
# addons folder inside the odoo package, plus the root addons/ folder of a git
# checkout, whose odoo/addons holds only base), ODOO_EXTRA_ADDONS_PATH, this repo.
odoo_addons_path() {
    local core
    core=$("$ODOO_PYTHON" -c 'import os, odoo; print(os.path.join(os.path.dirname(odoo.__file__), "addons"))') \
        || return 1
    if [ ! -d "$core/account" ] && [ -d "$core/../../addons/account" ]; then
        core="$core,$(cd "$core/../../addons" && pwd)"
    fi
    printf '%s%s,%s\n' "$core" "${ODOO_EXTRA_ADDONS_PATH:+,$ODOO_EXTRA_ADDONS_PATH}" "$REPO_ROOT"
}

# pg_ensure_running: start a local PostgreSQL cluster when none answers.
pg_ensure_running() {
    command -v pg_isready >/dev/null 2>&1 \
        || die "pg_isready not found: install PostgreSQL (apt-get install -y postgresql)."
    if pg_isready -q; then
        return 0
    fi
    command -v pg_lsclusters >/dev/null 2>&1 \
        || die "PostgreSQL does not answer and pg_lsclusters (Debian postgresql-common) is missing: start PostgreSQL yourself, or set PGHOST/PGPORT to a running server."
    local ver name _port status _rest
    while read -r ver name _port status _rest; do
        case $status in online*) continue ;; esac
        note "Starting PostgreSQL cluster $ver $name"
        run_privileged pg_ctlcluster "$ver" "$name" start \
            || as_postgres pg_ctlcluster "$ver" "$name" start \
            || note "Could not start cluster $ver $name"
    done < <(pg_lsclusters -h 2>/dev/null)
    for _ in $(seq 30); do
        pg_isready -q && return 0
        sleep 1
    done
    die "PostgreSQL does not answer at ${PGHOST:-the local socket}${PGPORT:+ port $PGPORT} (clusters: $(pg_lsclusters -h 2>&1 | tr '\n' ';')): start it (pg_ctlcluster <version> main start; to install it: apt-get install -y postgresql), or set PGHOST/PGPORT to a running server."
}

# pg_ensure_role: make sure a PostgreSQL role named as the OS user exists with
# LOGIN and CREATEDB (Odoo connects as the OS user through the local socket).
pg_ensure_role() {
    local user ok
    user=$(id -un)
    [ "$user" != postgres ] \
        || die "Odoo refuses to connect as the PostgreSQL superuser 'postgres': run this as another OS user."
    ok=$(psql -X -d postgres -tAc 'SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user' 2>/dev/null)
    [ "$ok" = t ] && return 0
    note "Creating or updating PostgreSQL role '$user' (LOGIN CREATEDB)"
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -v role="$user" -d postgres <<'SQL' \
        || die "Could not create the PostgreSQL role '$user': as the postgres user, run CREATE ROLE \"$user\" LOGIN CREATEDB;"
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS missing \gset
\if :missing
CREATE ROLE :"role" LOGIN CREATEDB;
\else
ALTER ROLE :"role" LOGIN CREATEDB;
\endif
SQL
}

# db_exists DB: succeed when database DB exists.
db_exists() {
    [ "$(psql -X -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" 2>/dev/null)" = 1 ]
}

# module_state DB: print the state of the addon in DB (nothing when DB is not
# an Odoo database or does not know the addon).
module_state() {
    psql -X -d "$1" -tAc "SELECT state FROM ir_module_module WHERE name = '$ADDON'" 2>/dev/null
}

# free_port: print a free TCP port of the loopback interface.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
