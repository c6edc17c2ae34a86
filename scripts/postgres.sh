#!/usr/bin/env bash
# A throwaway PostgreSQL server for running corso-dev's Temporal on
# PostgreSQL (corso-dev up --temporal-db), on 127.0.0.1 only.
#
#   scripts/postgres.sh install           install PostgreSQL from the distribution's packages if absent
#   scripts/postgres.sh start DIR PORT    create a cluster in DIR (first time), start it on 127.0.0.1:PORT,
#                                         create the role and the databases DB and DB_visibility
#   scripts/postgres.sh stop DIR          stop the cluster in DIR, keeping its data
#   scripts/postgres.sh destroy DIR       stop it and remove DIR
#
# start reads CORSO_PG_USER (default corso), CORSO_PG_DB (default temporal)
# and CORSO_PG_PASSWORD (required): the role's password, which travels only
# on standard input, never on a command line. Connections over TCP need it
# (SCRAM); the cluster's own Unix socket lives in DIR. The server runs as the
# current user, or as the postgres account when run as root (PostgreSQL
# refuses root): DIR's parent folders must then be searchable by postgres.
# Nothing outside DIR is changed, except by `install`.
set -euo pipefail

die() { echo "postgres.sh: $*" >&2; exit 1; }

# bin_dir is the newest installed PostgreSQL's program folder.
bin_dir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]] || return 1
	echo "$d"
}

install_pg() {
	if bin_dir >/dev/null; then
		return 0
	fi
	command -v apt-get >/dev/null || die "PostgreSQL is not installed and there is no apt-get; install PostgreSQL's server packages"
	local sudo=()
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null || die "PostgreSQL is not installed; run as root or install it: apt-get install -y postgresql"
		sudo=(sudo)
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! "${sudo[@]}" apt-get install -y --no-install-recommends postgresql >&2; then
		"${sudo[@]}" apt-get update >&2 || die "apt-get update failed"
		"${sudo[@]}" apt-get install -y --no-install-recommends postgresql >&2 || die "apt-get install postgresql failed"
	fi
	bin_dir >/dev/null || die "postgresql installed, but no initdb under /usr/lib/postgresql/*/bin"
}

# as_owner runs a command as the account that owns the cluster.
as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		# setpriv keeps standard input, so secrets can travel on it.
		setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
	else
		"$@"
	fi
}

# sql_literal quotes a string for SQL.
sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }

check_name() {
	[[ "$2" =~ ^[a-z_][a-z0-9_]*$ ]] || die "$1 must be a lower-case SQL name (letters, digits, _): $2"
}

start_pg() {
	local dir=$1 port=$2
	[[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number: $port"
	local user=${CORSO_PG_USER:-corso} db=${CORSO_PG_DB:-temporal}
	check_name CORSO_PG_USER "$user"
	check_name CORSO_PG_DB "$db"
	[[ -n "${CORSO_PG_PASSWORD:-}" ]] || die "set CORSO_PG_PASSWORD to the password of role $user"
	install_pg
	local bin
	bin=$(bin_dir)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [[ $(id -u) -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || die "running as root needs the postgres account, which the postgresql package creates"
		chown postgres:postgres "$dir"
		chmod 700 "$dir"
		as_owner test -x "$dir" || die "the postgres account cannot reach $dir: every folder above it must be searchable (use a folder such as /tmp/NAME)"
	fi
	if [[ ! -f "$dir/data/PG_VERSION" ]]; then
		as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
			--encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$dir/initdb.log")"
	fi
	as_owner mkdir -p "$dir/run"
	if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		local running
		running=$(sed -n 4p "$dir/data/postmaster.pid")
		[[ "$running" == "$port" ]] || die "the cluster in $dir already runs on port $running; stop it first"
	else
		as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir/run -c max_connections=200 -c fsync=off" \
			start >/dev/null || die "PostgreSQL did not start on 127.0.0.1:$port: $(tail -n 5 "$dir/postgres.log")"
	fi
	local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/run" -p "$port" -U postgres -d postgres)
	has() { as_owner "${psql[@]}" -tA -c "$1" | grep -q 1; }
	if ! has "SELECT 1 FROM pg_roles WHERE rolname = '$user'"; then
		as_owner "${psql[@]}" <<<"CREATE ROLE $user LOGIN PASSWORD $(sql_literal "$CORSO_PG_PASSWORD");" ||
			die "create role $user failed"
	else
		as_owner "${psql[@]}" <<<"ALTER ROLE $user LOGIN PASSWORD $(sql_literal "$CORSO_PG_PASSWORD");" ||
			die "set the password of role $user failed"
	fi
	for d in "$db" "${db}_visibility"; do
		if ! has "SELECT 1 FROM pg_database WHERE datname = '$d'"; then
			as_owner "${psql[@]}" -c "CREATE DATABASE $d OWNER $user" || die "create database $d failed"
		fi
	done
	echo "postgres://$user@127.0.0.1:$port/$db"
}

stop_pg() {
	local dir=$1
	[[ -f "$dir/data/PG_VERSION" ]] || return 0
	local bin
	bin=$(bin_dir) || die "PostgreSQL is not installed"
	if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || die "PostgreSQL in $dir did not stop"
	fi
}

case "${1:-}" in
install)
	[[ $# -eq 1 ]] || die "usage: $0 install"
	install_pg
	;;
start)
	[[ $# -eq 3 ]] || die "usage: $0 start DIR PORT"
	start_pg "$2" "$3"
	;;
stop)
	[[ $# -eq 2 ]] || die "usage: $0 stop DIR"
	stop_pg "$2"
	;;
destroy)
	[[ $# -eq 2 ]] || die "usage: $0 destroy DIR"
	stop_pg "$2"
	rm -rf "$2"
	;;
*)
	die "usage: $0 install | start DIR PORT | stop DIR | destroy DIR"
	;;
esac
