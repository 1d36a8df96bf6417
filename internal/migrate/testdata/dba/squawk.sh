#!/bin/sh
# Records squawk's verdicts on this corpus in squawk.json, so that the
# tests compare with them without npm. Run from this folder with squawk on
# the PATH (npm install --prefix /tmp/squawk squawk-cli; not in the repo):
#   PATH=/tmp/squawk/node_modules/.bin:$PATH ./squawk.sh
# Files run in a transaction are linted with --assume-in-transaction, as
# bascule runs them; NO TRANSACTION files without it.
set -eu
squawk --version >&2
{
	for f in expand/*.sql contract/*.sql; do
		if grep -q '^-- +goose NO TRANSACTION' "$f"; then
			squawk --reporter json --pg-version 15.0 "$f" || true
		else
			squawk --reporter json --pg-version 15.0 --assume-in-transaction "$f" || true
		fi
	done
} | python3 -c '
import json, sys
out = {}
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    for v in json.loads(line):
        out.setdefault(v["file"], []).append({"line": v["line"], "rule": v["rule_name"], "level": v["level"]})
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
' > squawk.json
