#!/usr/bin/python3
"""`epcal check` over real-world calendars nobody here wrote:
python-icalendar's test calendars (Debian's python3-icalendar, BSD licence).

- Every file that ical.js, Python icalendar and vobject all accept
  (verdicts.txt, made by make_verdicts.sh) gets no error from check
  (formatting findings, such as LF line ends, are allowed).
- Each crafted defect, added to each of those files as one more event
  (in the file's own line ends), is found: its rule is reported as an
  error, and nothing else is.

  test_realworld.py EPCAL_BINARY VERDICTS

Exit 77 (skipped) when python3-icalendar's calendars are not installed.
"""
import json
import os
import subprocess
import sys
import tempfile

TESTS = "/usr/lib/python3/dist-packages/icalendar/tests"

# rule -> the lines of one VEVENT that shows it
DEFECTS = {
    "bare-date": ["DTSTART:20220310"],
    "unescaped-comma": ["DTSTART;VALUE=DATE:20220310", "SUMMARY:Tom, Dick"],
    "unescaped-semicolon": ["DTSTART;VALUE=DATE:20220310",
                            "DESCRIPTION:one; two"],
    "invalid-escape": ["DTSTART;VALUE=DATE:20220310",
                       "DESCRIPTION:a \\Scene"],
    "tzid-no-vtimezone": ["DTSTART;TZID=Pacific/Chatham:20240101T100000"],
    "tzid-unknown": ["DTSTART;TZID=Nowhere/Atlantis:20240101T100000"],
    "negative-duration": ["DTSTART:20240101T100000Z", "DURATION:-PT1H"],
    "end-before-start": ["DTSTART:20240101T120000Z",
                         "DTEND:20240101T113000Z"],
    "missing-dtstart": ["SUMMARY:When?"],
}


def findings(epcal, path):
    p = subprocess.run([epcal, "check", "--json", "--max-errors", "0", path],
                       capture_output=True, timeout=60)
    if p.returncode not in (0, 1) or p.stderr:
        sys.exit(f"FAIL: {path}: exit {p.returncode}\n{p.stderr.decode()}")
    return [json.loads(line) for line in p.stdout.splitlines()]


def with_event(data, lines, stamp=True):
    eol = b"\r\n" if b"\r\n" in data else b"\n"
    end = data.rstrip().rfind(b"END:VCALENDAR")
    assert end > 0
    body = [b"BEGIN:VEVENT", b"UID:crafted-defect@epcal.test"]
    if stamp:
        body.append(b"DTSTAMP:20240101T000000Z")
    body += [line.encode() for line in lines] + [b"END:VEVENT"]
    return data[:end] + eol.join(body) + eol + data[end:]


def main():
    epcal, verdicts = sys.argv[1:3]
    if not os.path.isdir(TESTS):
        print(f"skip: {TESTS} is not installed (python3-icalendar)")
        sys.exit(77)
    accepted = []
    with open(verdicts) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, verdict = line.split()
            if verdict == "accepted":
                accepted.append(name)
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for name in accepted:
            path = os.path.join(TESTS, name)
            errors = [f for f in findings(epcal, path)
                      if f["severity"] == "error"]
            if errors:
                print(f"FAIL: {name}: all three parsers accept it, check "
                      f"says: {errors}")
                failed = True
                continue
            with open(path, "rb") as f:
                data = f.read()
            for rule, lines in DEFECTS.items():
                crafted = os.path.join(tmp, f"{rule}-{name}")
                with open(crafted, "wb") as f:
                    f.write(with_event(data, lines))
                got = [f["rule"] for f in findings(epcal, crafted)
                       if f["severity"] == "error"]
                if got != [rule]:
                    print(f"FAIL: {name} + {rule}: errors {got}")
                    failed = True
            print(f"ok: {name}: no error; {len(DEFECTS)} defects found")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
