#!/usr/bin/env bash
# Runs the whole test suite of @tokenaccess/mongodb against REAL MongoDB deployments: a replica
# set and a mongos. What the stand-in (tooling/mongo-standin) cannot prove, this is for:
# MongoDB's own query and pipeline semantics, replication and read routing, the real TTL monitor,
# write conflicts under real concurrency, sharding, and the driver against a real mongod after a
# network blackout. See docs/stores/mongodb.md ("Running against a real MongoDB").
#
#   TOKENACCESS_MONGODB_URL='mongodb://127.0.0.1:27017,127.0.0.1:27018,127.0.0.1:27019/?replicaSet=rs0' \
#   TOKENACCESS_MONGODB_MONGOS_URL='mongodb://127.0.0.1:27030/' \
#     scripts/mongo-real.sh
#
#   scripts/mongo-real.sh --docker    # starts both in Docker (mongo:7, host network), runs, removes them
#
# Each URL gets the full suite (packages/mongodb/test), which includes:
#   - the conformance suite (200 parallel consumes of a maxUses 10 token, 200 at a refill period
#     boundary, update racing consume), on a mongos with every collection sharded on { hash: 1 };
#   - primary.test.ts: a client with readPreference=secondaryPreferred, every store command on the
#     primary (a replica set with at least one secondary, or a mongos);
#   - fault.test.ts: the blackout drill, through a proxy in front of the primary (or the first mongos);
#   - ttl.test.ts: a real TTL monitor deleting what has passed purgeAt and leaving what must answer
#     `exhausted` (sets ttlMonitorSleepSecs=1 where allowed; on a mongos it waits out MongoDB's 60 s).
# Start mongod/mongos with `--setParameter enableTestCommands=1` for the fail-point cases
# (sweep resumption, E11000 without keyPattern); without it they are skipped, and say so.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$root/packages/mongodb"
image="${TOKENACCESS_MONGODB_IMAGE:-mongo:7}"
started=()

cleanup() { for c in "${started[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done; }
trap cleanup EXIT

# docker run, host network, loopback only; the container name is remembered for cleanup
run() { # name, args...
  local name="$1"; shift
  docker run -d --rm --name "$name" --network host "$image" "$@" >/dev/null
  started+=("$name")
}
sh_eval() { # port, js
  docker exec "${started[0]}" mongosh --quiet --port "$1" --eval "$2"
}
wait_primary() { # port
  for _ in $(seq 1 120); do
    [ "$(sh_eval "$1" 'db.hello().isWritablePrimary' 2>/dev/null || true)" = "true" ] && return 0
    sleep 1
  done
  echo "mongo-real: no primary on port $1" >&2; return 1
}
wait_up() { # port
  for _ in $(seq 1 60); do sh_eval "$1" 'db.runCommand({ ping: 1 }).ok' >/dev/null 2>&1 && return 0; sleep 1; done
  echo "mongo-real: nothing answers on port $1" >&2; return 1
}

if [ "${1:-}" = "--docker" ]; then
  test_cmds=(--setParameter enableTestCommands=1)
  # a replica set of three (a primary and two secondaries, so secondaryPreferred has somewhere to go)
  for p in 27017 27018 27019; do run "ta-rs-$p" mongod --replSet rs0 --port "$p" --bind_ip 127.0.0.1 "${test_cmds[@]}"; done
  wait_up 27017
  sh_eval 27017 'rs.initiate({ _id: "rs0", members: [
    { _id: 0, host: "127.0.0.1:27017", priority: 2 }, { _id: 1, host: "127.0.0.1:27018" }, { _id: 2, host: "127.0.0.1:27019" } ] })' >/dev/null
  wait_primary 27017
  # a sharded cluster: one config server, one shard (a one-member replica set), one mongos
  run ta-cfg mongod --configsvr --replSet cfg --port 27027 --bind_ip 127.0.0.1
  run ta-sh0 mongod --shardsvr --replSet sh0 --port 27028 --bind_ip 127.0.0.1 "${test_cmds[@]}"
  wait_up 27027; wait_up 27028
  sh_eval 27027 'rs.initiate({ _id: "cfg", configsvr: true, members: [{ _id: 0, host: "127.0.0.1:27027" }] })' >/dev/null
  sh_eval 27028 'rs.initiate({ _id: "sh0", members: [{ _id: 0, host: "127.0.0.1:27028" }] })' >/dev/null
  wait_primary 27027; wait_primary 27028
  run ta-mongos mongos --configdb cfg/127.0.0.1:27027 --port 27030 --bind_ip 127.0.0.1 "${test_cmds[@]}"
  wait_up 27030
  sh_eval 27030 'sh.addShard("sh0/127.0.0.1:27028")' >/dev/null
  export TOKENACCESS_MONGODB_URL='mongodb://127.0.0.1:27017,127.0.0.1:27018,127.0.0.1:27019/?replicaSet=rs0'
  export TOKENACCESS_MONGODB_MONGOS_URL='mongodb://127.0.0.1:27030/'
fi

if [ -z "${TOKENACCESS_MONGODB_URL:-}" ] && [ -z "${TOKENACCESS_MONGODB_MONGOS_URL:-}" ]; then
  echo "mongo-real: set TOKENACCESS_MONGODB_URL (a replica set) and/or TOKENACCESS_MONGODB_MONGOS_URL (a mongos), or pass --docker" >&2
  exit 2
fi

# What is on the other end: topology, version, test commands, a settable TTL interval.
probe() { # url
  (cd "$pkg" && TOKENACCESS_PROBE_URL="$1" node --input-type=module -e '
    import { MongoClient } from "mongodb";
    const client = new MongoClient(process.env.TOKENACCESS_PROBE_URL, { serverSelectionTimeoutMS: 10000 });
    try {
      const admin = client.db("admin");
      const hello = await admin.command({ hello: 1 });
      const { version } = await admin.command({ buildInfo: 1 });
      const kind = hello.msg === "isdbgrid" ? "mongos" : hello.setName ? `replica set ${hello.setName} (${hello.hosts.length} members, primary ${hello.primary})` : "standalone";
      const fp = await admin.command({ configureFailPoint: "failCommand", mode: "off" }).then(() => "on", () => "OFF: fail-point cases will be skipped");
      const ttl = await admin.command({ getParameter: 1, ttlMonitorSleepSecs: 1 }).then((r) => `${r.ttlMonitorSleepSecs} s (settable)`, () => "not settable here: the TTL test waits up to 125 s");
      console.log(`mongo-real: ${kind}, MongoDB ${version}; test commands ${fp}; TTL monitor ${ttl}`);
      if (kind === "standalone") console.log("mongo-real: WARNING a standalone has no secondary: the read-preference test is skipped");
    } finally { await client.close(); }
  ')
}

status=0
suite() { # label, url, extra env...
  local label="$1" url="$2"; shift 2
  echo "== $label"
  probe "$url"
  if ! (cd "$pkg" && env TOKENACCESS_MONGODB_BACKEND=url TOKENACCESS_MONGODB_URL="$url" "$@" npx vitest run); then
    echo "mongo-real: $label FAILED" >&2
    status=1
  fi
}

[ -n "${TOKENACCESS_MONGODB_URL:-}" ] && suite "replica set" "$TOKENACCESS_MONGODB_URL"
[ -n "${TOKENACCESS_MONGODB_MONGOS_URL:-}" ] && suite "mongos (collections sharded on { hash: 1 })" "$TOKENACCESS_MONGODB_MONGOS_URL" TOKENACCESS_MONGODB_SHARD_COLLECTIONS=1
exit "$status"
