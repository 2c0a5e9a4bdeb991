#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY PostgreSQL database.
#
#   DATABASE_URL=postgres://user@host:5432/academy_restored scripts/restore.sh FILE
#   scripts/restore.sh --compose FILE       # into the docker-compose "db" service's database
#
# The target database must exist and be empty (create it first: createdb, or see
# docs/operations.md); the script refuses a database that already has Academy's tables,
# so a restore never mixes two databases. Everything is restored in ONE transaction:
# on any error nothing is left behind (--single-transaction --exit-on-error).
# After restoring, run `manage.py migrate` (a no-op for a dump of the same release).
set -euo pipefail

compose=0
if [[ "${1:-}" == "--compose" ]]; then
    compose=1
    shift
fi
file="${1:?usage: scripts/restore.sh [--compose] FILE}"
[[ -r "$file" ]] || { echo "ERROR: cannot read $file" >&2; exit 1; }

check_sql="SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'django_migrations'"
if ((compose)); then
    run_psql() { docker compose exec -T db sh -c 'psql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Atqc "$0"' "$1"; }
else
    : "${DATABASE_URL:?set DATABASE_URL to the EMPTY database to restore into}"
    run_psql() { psql --dbname="$DATABASE_URL" -Atqc "$1"; }
fi
if [[ "$(run_psql "$check_sql")" != "0" ]]; then
    echo "ERROR: the target database is not empty (it has Academy's tables). Restore into a new, empty database." >&2
    exit 1
fi

if ((compose)); then
    docker compose exec -T db sh -c \
        'pg_restore -U "$POSTGRES_USER" -d "$POSTGRES_DB" --no-owner --no-privileges --single-transaction --exit-on-error' \
        <"$file"
else
    pg_restore --dbname="$DATABASE_URL" --no-owner --no-privileges --single-transaction --exit-on-error "$file"
fi
echo "Restored $file"
