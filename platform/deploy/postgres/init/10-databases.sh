#!/bin/sh
# Generated from the service manifests (services/*/service.yaml) by `make generate`
# (platform/stackkit): edit a manifest or the template, never this file.
# One role (<service>_service) and one database (<service>) per service that owns
# one; each role's password is the <service>-password key of the postgres-secrets Secret,
# which the StatefulSet mounts as files. Runs on an empty data directory
# (docker-entrypoint-initdb.d of the postgres image), and is safe to run again: what exists
# stays, passwords follow the Secret. For a database service newer than the cluster's data:
#   kubectl exec statefulset/postgres -- /docker-entrypoint-initdb.d/10-databases.sh
set -eu

secrets="${POSTGRES_SECRETS:-/etc/postgres-secrets}"
PGPASSWORD="$(cat "$secrets/postgres-password")"
export PGPASSWORD

create() {
  password="$(cat "$secrets/$1-password")"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=role="${1}_service" --set=database="$1" --set=password="$password" <<'SQL'
SELECT format('CREATE ROLE %I', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" LOGIN PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'database', :'role')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
SQL
}

create auth
create user
