#!/bin/sh
# Runs once, on an empty data directory (docker-entrypoint-initdb.d of the postgres image):
# one role and one database per service. Passwords come from the postgres-secrets Secret.
set -eu

create() {
  role="$1" database="$2" password="$3"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    --set=role="$role" --set=database="$database" --set=password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
SQL
}

create user_service user "$USER_DB_PASSWORD"
create auth_service auth "$AUTH_DB_PASSWORD"
