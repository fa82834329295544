#!/bin/sh
# Writes fresh random credentials to deploy/compose/secrets/, one file per
# docker secret. Existing files are kept, so running it again is harmless.
# The directory is private to you; the files are world-readable inside it
# because compose bind-mounts them and the containers run as other users.
set -eu
cd "$(dirname "$0")"
mkdir -p secrets
chmod 700 secrets

rand() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }
put() {
	if [ ! -s "secrets/$1" ]; then
		printf '%s' "$2" >"secrets/$1"
		chmod 644 "secrets/$1"
		echo "wrote secrets/$1"
	fi
}

put postgres_password "$(rand 24 | tr '+/' '-_' | tr -d '=')"
put database_url "postgres://lienthong:$(cat secrets/postgres_password)@postgres:5432/lienthong?sslmode=disable"
put codec_key "$(rand 32)"
put token_key "$(rand 48)"
put agency_api_key "$(rand 24)"
put agency_admin_key "$(rand 24)"
