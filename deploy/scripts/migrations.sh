#!/usr/bin/env bash
# Writes a new migration for each dialect when the ent schema differs from
# what the committed migrations build (nothing is written when they agree).
# PostgreSQL needs a clean dev database: one is created and dropped here on
# the server named by TEST_DATABASE_URL.
set -euo pipefail
name="${1:-changes}"
go run -mod=mod ./server/migrations/gen.go -dialect sqlite -name "$name"
base="${TEST_DATABASE_URL:?TEST_DATABASE_URL is not set (run through make)}"
dev="vg_atlas_dev_$$"
admin_url="$(sed -E 's#/[^/?]+(\?|$)#/postgres\1#' <<<"$base")"
dev_url="$(sed -E "s#/[^/?]+(\\?|\$)#/$dev\\1#" <<<"$base")"
sep='?'; [[ "$dev_url" == *\?* ]] && sep='&'
psql "$admin_url" -q -c "CREATE DATABASE $dev" >/dev/null
trap 'psql "$admin_url" -q -c "DROP DATABASE IF EXISTS $dev" >/dev/null' EXIT
go run -mod=mod ./server/migrations/gen.go -dialect postgres -dev "${dev_url}${sep}search_path=public" -name "$name"
