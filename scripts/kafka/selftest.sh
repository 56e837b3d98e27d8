#!/usr/bin/env bash
# Self-test for scripts/kafka/kafka.sh against a real broker, using kcat
# (apt-get install -y kcat). Runs two brokers at once on their own ports and
# data dirs, produces/consumes, restarts one on the same data dir and checks
# that both the record and the consumer group's committed offset survived.
#
# Usage: scripts/kafka/selftest.sh   (env: SELFTEST_PORT, default 39600;
#        the second broker uses SELFTEST_PORT+10)
set -euo pipefail

KSH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kafka.sh"
P1="${SELFTEST_PORT:-39600}"
P2=$((P1 + 10))
D1=$(mktemp -d /tmp/streamgate-kafka-selftest-a.XXXXXX)
D2=$(mktemp -d /tmp/streamgate-kafka-selftest-b.XXXXXX)
command -v kcat >/dev/null || { echo "selftest: kcat not found (apt-get install -y kcat)" >&2; exit 1; }

k1() { KAFKA_PORT=$P1 KAFKA_DATA_DIR=$D1 "$KSH" "$@"; }
k2() { KAFKA_PORT=$P2 KAFKA_DATA_DIR=$D2 "$KSH" "$@"; }
cleanup() { k1 clean || true; k2 clean || true; }
trap cleanup EXIT

pass=0 fail=0
check() { # name, command...
  local name=$1; shift
  if "$@"; then echo "ok   - $name"; pass=$((pass + 1)); else echo "FAIL - $name"; fail=$((fail + 1)); fi
}
ms() { date +%s%3N; }
not() { ! "$@"; }

t=$(ms); B1=$(k1 start | tail -n 1); t1=$(($(ms) - t))
t=$(ms); B2=$(k2 start | tail -n 1); t2=$(($(ms) - t))
echo "# broker A $B1 ready in ${t1} ms, broker B $B2 ready in ${t2} ms"
check "start prints bootstrap A" test "$B1" = "127.0.0.1:$P1"
check "start prints bootstrap B" test "$B2" = "127.0.0.1:$P2"
check "status A" k1 status
check "status B" k2 status
check "start is idempotent" test "$(k1 start 2>/dev/null | tail -n 1)" = "$B1"
check "server.log reports Kafka version 4.3.1" grep -q "Kafka version: 4.3.1" "$D1/server.log"

MSG="selftest-$$-$(date +%s)"
echo "$MSG" | kcat -b "$B1" -P -t selftest -k k1 -p 0 -X topic.request.required.acks=all
echo "other-$MSG" | kcat -b "$B2" -P -t selftest -k k2 -p 0
check "consume on A" test "$(kcat -b "$B1" -C -t selftest -p 0 -o beginning -c 1 -e -q -f '%s')" = "$MSG"
check "consume on B" test "$(kcat -b "$B2" -C -t selftest -p 0 -o beginning -c 1 -e -q -f '%s')" = "other-$MSG"
check "topic auto-created with 3 partitions" \
  test "$(kcat -b "$B1" -L -t selftest | grep -c 'partition [0-9]*, leader 1')" = 3
# consumer group reads the record and commits offset 1 on partition 0
got=$(timeout 30 kcat -b "$B1" -G selftest-group -X auto.offset.reset=earliest -c 1 -q -f '%s' selftest 2>/dev/null || true)
check "group consumer reads record" test "$got" = "$MSG"

t=$(ms); k1 stop; ts=$(($(ms) - t))
check "status A fails after stop" not k1 status
check "stop is idempotent" k1 stop
check "B still up while A is down" k2 status
t=$(ms); B1=$(k1 start | tail -n 1); tr=$(($(ms) - t))
echo "# broker A stopped in ${ts} ms, restarted in ${tr} ms"
check "record kept across restart" \
  test "$(kcat -b "$B1" -C -t selftest -p 0 -o beginning -c 1 -e -q -f '%s')" = "$MSG"
echo "second-$MSG" | kcat -b "$B1" -P -t selftest -k k1 -p 0
got=$(timeout 30 kcat -b "$B1" -G selftest-group -X auto.offset.reset=earliest -c 1 -q -f '%s@%o' selftest 2>/dev/null || true)
check "committed group offset kept across restart" test "$got" = "second-$MSG@1"

k1 clean
check "clean removes data dir" test ! -e "$D1"
k2 clean
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
