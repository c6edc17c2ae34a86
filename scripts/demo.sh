#!/usr/bin/env bash
# Runs corso's main job on embedded defaults: the dev stack (Temporal server,
# Web UI, S3 with bucket corso-test, a simulated Microsoft 365 tenant), one
# worker, then `corso repo init` and `corso repo connect` as the seed
# documents them, a backup of every mailbox, the backup list and an excerpt
# of one backup's details. Ctrl-C stops everything.
# DEMO_EXIT=1 stops after the commands instead of waiting.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/bin}
DEMO_DIR=${DEMO_DIR:-$PWD/.data/dev}
mkdir -p "$DEMO_DIR"
log=$DEMO_DIR/logs
mkdir -p "$log"

pids=()
cleanup() {
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -f "$DEMO_DIR/corso-dev.env"
"$BIN/corso-dev" up --data-dir "$DEMO_DIR" >"$log/corso-dev.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do
	[ -f "$DEMO_DIR/corso-dev.env" ] && break
	if ! kill -0 "${pids[0]}" 2>/dev/null; then
		cat "$log/corso-dev.log" >&2
		exit 1
	fi
	sleep 0.1
done
[ -f "$DEMO_DIR/corso-dev.env" ] || { echo "corso-dev did not start; see $log/corso-dev.log" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. "$DEMO_DIR/corso-dev.env"
set +a
grep ready "$log/corso-dev.log" || true

"$BIN/corso-worker" --data-dir "$DEMO_DIR/worker" >"$log/corso-worker.log" 2>&1 &
pids+=($!)

export CORSO_PASSPHRASE=${CORSO_PASSPHRASE:-CHANGE-ME-THIS-IS-INSECURE}
export CORSO_CONFIG_DIR=${CORSO_CONFIG_DIR:-$DEMO_DIR}
echo
echo "\$ corso repo init s3 --bucket $CORSO_S3_BUCKET --endpoint $CORSO_S3_ENDPOINT --disable-tls"
"$BIN/corso" repo init s3 --bucket "$CORSO_S3_BUCKET" --endpoint "$CORSO_S3_ENDPOINT" --disable-tls
echo
echo "\$ corso repo connect s3 --bucket $CORSO_S3_BUCKET --endpoint $CORSO_S3_ENDPOINT --disable-tls"
"$BIN/corso" repo connect s3 --bucket "$CORSO_S3_BUCKET" --endpoint "$CORSO_S3_ENDPOINT" --disable-tls
echo
echo "\$ corso backup create exchange --mailbox '*'"
# The simulated tenant fails as real ones do: users without a mailbox are
# reported and left out, and the mailbox an access policy hides fails alone,
# so this command exits non-zero while every other mailbox is backed up.
"$BIN/corso" backup create exchange --mailbox '*' || echo "(exit $?: one mailbox failed alone, as above)"
echo
echo "\$ corso backup list exchange"
"$BIN/corso" backup list exchange
first=$("$BIN/corso" backup list exchange --json | sed -n 's/.*"backupID": "\([0-9a-f]*\)".*/\1/p' | head -n 1)
echo
echo "\$ corso backup details exchange --backup $first --email-folder Inbox   (first 15 lines)"
"$BIN/corso" backup details exchange --backup "$first" --email-folder Inbox >"$log/details.txt"
head -n 15 "$log/details.txt"
echo
echo "\$ corso backup create onedrive --user '*'"
"$BIN/corso" backup create onedrive --user '*' || echo "(exit $?: some drives failed alone, as above)"
echo
echo "\$ corso export exchange $DEMO_DIR/export --backup $first"
rm -rf "$DEMO_DIR/export"
"$BIN/corso" export exchange "$DEMO_DIR/export" --backup "$first"
echo
echo "Temporal Web UI: $CORSO_TEMPORAL_UI/namespaces/default/workflows"
echo "Use the stack from another shell:  set -a; . $DEMO_DIR/corso-dev.env; set +a"
[ "${DEMO_EXIT:-0}" = 1 ] && exit 0
echo "Running; press Ctrl-C to stop."
wait "${pids[0]}"
