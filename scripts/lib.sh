# shellcheck shell=bash disable=SC2034  # variables are read by the scripts that source it
# Helpers shared by scripts/test and scripts/serve. Source it, don't run it.
#
# Environment:
#   ODOO_PYTHON              the Python that can `import odoo` (Odoo 18.0);
#                            default: python3
#   ODOO_EXTRA_ADDONS_PATH   optional comma-separated addons folders put
#                            between Odoo's own addons and this repository
#                            (Odoo Enterprise, or the root addons/ folder of an
#                            Odoo git checkout whose odoo/addons holds only base)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADDON=crm_relationship
ODOO_PYTHON="${ODOO_PYTHON:-python3}"

# Tools run by python3 (the linters need no Odoo); versions installed when
# missing. ruff and pylint-odoo are also replaced when another version is
# installed, since their verdicts depend on the version.
TOOLS_PYTHON=python3
RUFF_VERSION=0.17.6
PYLINT_ODOO_VERSION=9.1.3
PYTEST_VERSION=9.0.3
WEBSOCKET_CLIENT_VERSION=1.9.2

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

# odoo_addons_path: print the --addons-path value: Odoo's own addons (the
# addons folder inside the odoo package), ODOO_EXTRA_ADDONS_PATH, this repo.
odoo_addons_path() {
    local core
    core=$("$ODOO_PYTHON" -c 'import os, odoo; print(os.path.join(os.path.dirname(odoo.__file__), "addons"))') \
        || return 1
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
    die "PostgreSQL still does not answer (pg_lsclusters: $(pg_lsclusters -h 2>&1 | tr '\n' ';')). Install and start it: apt-get install -y postgresql && pg_ctlcluster <version> main start."
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
