#!/usr/bin/env bash
# Back up Academy's PostgreSQL database to one file in pg_dump's custom format (-Fc).
#
#   DATABASE_URL=postgres://user@host:5432/academy scripts/backup.sh [FILE]
#   scripts/backup.sh --compose [FILE]      # the docker-compose "db" service
#
# FILE defaults to backups/academy-<UTC date and time>.dump (the folder is created).
# The dump holds every table, sequence, trigger and constraint; it is compressed and is
# restored with scripts/restore.sh (pg_restore). It is a consistent snapshot taken in
# one transaction while Academy keeps running. Owners and grants are left out so the
# dump restores under any database user. See docs/operations.md.
# Needs pg_dump of the server's major version or newer (not needed with --compose).
set -euo pipefail

compose=0
if [[ "${1:-}" == "--compose" ]]; then
    compose=1
    shift
fi
file="${1:-backups/academy-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$file")"
tmp="$file.partial"
trap 'rm -f "$tmp"' EXIT

if ((compose)); then
    docker compose exec -T db sh -c 'pg_dump -U "$POSTGRES_USER" -d "$POSTGRES_DB" -Fc --no-owner --no-privileges' >"$tmp"
else
    : "${DATABASE_URL:?set DATABASE_URL to the database to back up (postgres://user@host:port/name)}"
    pg_dump --dbname="$DATABASE_URL" -Fc --no-owner --no-privileges --file="$tmp"
fi
# A dump that pg_restore cannot list is not a backup: check before keeping it.
if ((compose)); then
    docker compose exec -T db pg_restore --list <"$tmp" >/dev/null
else
    pg_restore --list "$tmp" >/dev/null
fi
mv "$tmp" "$file"
trap - EXIT
echo "Backed up to $file ($(du -h "$file" | cut -f1))"
