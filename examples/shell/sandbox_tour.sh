#!/usr/bin/env bash
# The sandbox commands of the CLI, start to end.
set -euo pipefail
strata volume get work --create > /dev/null
id=$(strata sandbox create --volume work:/home/w)
# The sandbox and the local file go, however the tour ends.
trap 'strata sandbox delete "$id" 2> /dev/null || true; rm -f /tmp/strata-tour-$$.txt' EXIT
echo 'hello from the host' > /tmp/strata-tour-$$.txt
strata sandbox upload "$id" /tmp/strata-tour-$$.txt /home/w/in/hello.txt
strata sandbox exec "$id" 'tr a-z A-Z < /home/w/in/hello.txt > /home/w/out.txt'
strata sandbox download "$id" /home/w/out.txt - | grep -qx 'HELLO FROM THE HOST'
strata sandbox list | grep -q "$id"
strata sandbox delete "$id"
# The volume kept what the sandbox wrote.
strata fs cat work:/out.txt | grep -qx 'HELLO FROM THE HOST'
echo "sandbox tour done"
