#!/usr/bin/env bash
# Regenerates verdicts.txt: for each of python-icalendar's test calendars
# (Debian's python3-icalendar, BSD licence), whether ical.js, Python
# icalendar and vobject all accept it, as judged by an independent
# multi-parser validator (validate-ics).
#
#   tests/realworld/make_verdicts.sh VALIDATE_ICS > tests/realworld/verdicts.txt
set -euo pipefail
validate="$1"
echo "# file (python3-icalendar's tests/), then: accepted = ical.js, Python"
echo "# icalendar and vobject all parse it; rejected = one of them does not."
echo "# Made by make_verdicts.sh with python3-icalendar $(dpkg-query -W -f='${Version}' python3-icalendar)."
for f in $(dpkg -L python3-icalendar | grep '/icalendar/tests/[^/]*\.ics$' | sort); do
  if "$validate" --only ical.js,py-icalendar,vobject "$f" >/dev/null 2>&1; then
    echo "$(basename "$f") accepted"
  else
    echo "$(basename "$f") rejected"
  fi
done
