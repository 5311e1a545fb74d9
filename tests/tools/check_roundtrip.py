#!/usr/bin/python3
"""Real-world CSV, read by epcal and by Python's csv module, must agree.

Usage: check_roundtrip.py EPCAL. For every variant of one table (each
delimiter, `|` too, each line end, with and without a byte-order mark,
UTF-16 and UTF-32 with theirs, header aliases, quoted delimiters, doubled
quotes and line breaks, split over two files), epcal writes a feed and
python3-icalendar decodes it; every event's text must equal what Python's
csv module reads from the same bytes, after epcal's documented rules:
blanks trimmed, CRLF and CR inside a field read as a line break, SUMMARY =
"show SxxEyy – title" on one line. A table pasted as TAB-separated text
(no quoting; literal quotes) must read back cell for cell.
"""
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile

from icalendar import Calendar

EPCAL = os.path.abspath(sys.argv[1])

ROWS = [
    ["Law & Order; SVU", "24", "1", "2022-09-22", "Title, with; | specials \\",
     "First line, \"quoted\";\nsecond line \\ end", "NBC, Universal",
     "https://example.org/svu"],
    ["Café Olé 📺", "1", "2", "March 3, 2022", "Ünïcödé ✓ → long " * 6,
     "Ελληνικά, русский, 日本語\n\nafter a blank line", "", ""],
    ["Orbit, Inc.", "0", "1", "May 5 2022", "  padded  title  ", "", "",
     "https://example.org/a b"],
    ["Tabs\tInside", "3", "10", "20221231", "multi\nline\ntitle", "tab\there",
     "Net;work", ""],
    # Copied from a wiki's episode table: markup around the title, and
    # dates written the way release sites and spreadsheets write them.
    ["Wiki", "2", "3", "March 17, 2022 (2022-03-17)[4]",
     "\"Penance\"[a] [note 1]", "", "", ""],
    ["Wiki", "2", "4", "Thursday, March 24th, 2022", "\u201cWatcher\u201d", "",
     "", ""],
    ["Wiki", "2", "5", "2022-03-31 00:00:00", "\"A\" / \"B\"[b]", "", "", ""],
    ["Wiki", "2", "6", "07-Apr-2022", "[REC]", "", "", ""],
]

HEADERS = [
    ["show", "season", "episode", "air_date", "title", "description",
     "network", "url"],
    ["Series Name", "Season Number", "Episode Number", "Air Date",
     "Episode Title", "Overview", "Channel", "Link"],
]

failures = 0


def fail(variant, msg):
    global failures
    failures += 1
    print(f"FAIL {variant}: {msg}")


# Byte-order marks and the codecs they select.
WIDE = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff",
        "utf-32-le": b"\xff\xfe\x00\x00", "utf-32-be": b"\x00\x00\xfe\xff"}


def encode_table(header, rows, delim, eol, bom, codec="utf-8"):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator=eol,
                   quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        # Inside quoted fields a line break is written as the file's own.
        w.writerow([c.replace("\n", eol) for c in r])
    if codec != "utf-8":
        return WIDE[codec] + buf.getvalue().encode(codec)
    data = buf.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


MARK = re.compile(r"[ \t]*\[(?:[0-9]{1,3}|[a-z]{1,2}|(?:note|nb|N|lower-alpha) "
                  r"[A-Za-z0-9]{1,3}|citation needed)\]$")


def clean_title(t):
    """epcal's documented title rule: footnote marks at the end, then the
    quotes around the whole title when no other quote is inside; never
    an empty title."""
    s = t
    while True:
        m = MARK.search(s)
        if m is None or m.start() == 0:
            break
        s = s[:m.start()]
    s = s.rstrip(" \t")
    if not s:
        return t
    for left, right in (('"', '"'), ("\u201c", "\u201d")):
        if len(s) >= 2 and s.startswith(left) and s.endswith(right):
            inner = s[1:-1]
            if any(q in inner for q in ('"', "\u201c", "\u201d")):
                return s
            return inner.strip(" \t") or s
    return s


def expected_events(data, delim, codec="utf-8"):
    """What Python's csv module reads, with epcal's rules applied."""
    if codec != "utf-8":
        text = data[len(WIDE[codec]):].decode(codec)
    else:
        text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    out = {}
    for r in rows[1:]:
        if not r:
            continue
        r = [c.replace("\r\n", "\n").replace("\r", "\n").strip(" \t\n")
             for c in r]
        show, season, number, _, title, desc, net, url = r
        summary = f"{show} S{int(season):02d}E{int(number):02d}"
        title = clean_title(title)
        if title:
            summary += " \u2013 " + title
        summary = re.sub(r"[ \t\n]+", " ", summary)
        out[(show, int(season), int(number))] = {
            "summary": summary, "description": desc or None,
            "network": net or None, "url": url or None}
    return out


# Cells with quotes as people paste them, and what each must read as.
PASTED = [
    # show, season, episode, date, title (as pasted, as read), description
    ("Star Trek: Picard", "2", "1", "March 3, 2022",
     '"The Star Gazer"', "The Star Gazer", 'Episode "1" of ten'),
    ("Star Trek: Picard", "2", "2", "March 10, 2022",
     '"Penance"[a]', '"Penance"[a]', '"unclosed quote'),
    ("Star Trek: Picard", "2", "3", "March 17, 2022",
     'Say "hello"', 'Say "hello"', '12" vinyl, 7" single'),
    ("Café \"Olé\"", "1", "1", "2022-01-01",
     '"a" and "b"', '"a" and "b"', '"'),
]


def pasted_table(eol):
    lines = ["Show\tSeason\tEpisode\tRelease date\tTitle\tDescription"]
    for show, season, ep, date, title, _, desc in PASTED:
        lines.append("\t".join([show, season, ep, date, title, desc]))
    return (eol.join(lines) + eol).encode()


PASTED_WANT = {}
for show, season, ep, date, _, title, desc in PASTED:
    title = clean_title(title)
    summary = f"{show} S{int(season):02d}E{int(ep):02d} \u2013 {title}"
    PASTED_WANT[(show, int(season), int(ep))] = {
        "summary": summary, "description": desc, "network": None,
        "url": None}


def decoded_events(feed):
    out = {}
    for ev in Calendar.from_ical(feed).walk("VEVENT"):
        summary = str(ev["SUMMARY"])
        cats = ev.get("CATEGORIES")
        net = None
        if cats is not None:
            net = ",".join(str(c) for c in cats.cats)
        out[summary] = {
            "summary": summary,
            "description": str(ev["DESCRIPTION"]) if "DESCRIPTION" in ev
            else None,
            "network": net,
            "url": str(ev["URL"]) if "URL" in ev else None}
    return out


def check(variant, files, delim, codec="utf-8", want=None):
    args = [EPCAL, "generate"] + files
    p = subprocess.run(args, capture_output=True, timeout=60)
    if p.returncode != 0 or p.stderr:
        fail(variant, f"exit {p.returncode}: {p.stderr.decode()}")
        return
    got = decoded_events(p.stdout)
    if want is None:
        want = {}
        for f in files:
            with open(f, "rb") as fh:
                want.update(expected_events(fh.read(), delim, codec))
    if len(got) != len(want):
        fail(variant, f"{len(got)} events, expected {len(want)}")
    for w in want.values():
        g = got.get(w["summary"])
        if g is None:
            fail(variant, f"no event {w['summary']!r}; have {list(got)}")
            continue
        wurl = w["url"].replace(" ", "%20") if w["url"] else None
        for k, v in (("description", w["description"]),
                     ("network", w["network"]), ("url", wurl)):
            if g[k] != v:
                fail(variant, f"{k}: {g[k]!r} != {v!r}")


def main():
    d = tempfile.mkdtemp(prefix="epcal-roundtrip-")
    n = 0
    try:
        for delim, dname in ((",", "comma"), (";", "semicolon"),
                             ("\t", "tab"), ("|", "pipe")):
            for eol, ename in (("\n", "lf"), ("\r\n", "crlf"), ("\r", "cr")):
                for bom in (False, True):
                    for h, header in enumerate(HEADERS):
                        variant = f"{dname}-{ename}-{'bom' if bom else 'nobom'}-h{h}"
                        data = encode_table(header, ROWS, delim, eol, bom)
                        path = os.path.join(d, variant + ".csv")
                        with open(path, "wb") as f:
                            f.write(data)
                        check(variant, [path], delim)
                        n += 1
        # Unicode exports (Excel's "Unicode Text" is UTF-16LE, TAB, CRLF):
        # the byte-order mark alone selects the encoding.
        for codec in WIDE:
            for delim, dname in ((",", "comma"), ("\t", "tab")):
                variant = f"{codec}-{dname}"
                data = encode_table(HEADERS[1], ROWS, delim, "\r\n", True,
                                    codec)
                path = os.path.join(d, variant + ".csv")
                with open(path, "wb") as f:
                    f.write(data)
                check(variant, [path], delim, codec)
                n += 1
        # A table pasted from a web page: TAB-separated, nothing quoted,
        # quotes are text; only a wholly enclosed cell is unquoted.
        for eol, ename in (("\n", "lf"), ("\r\n", "crlf")):
            variant = f"pasted-tsv-{ename}"
            path = os.path.join(d, variant + ".tsv")
            with open(path, "wb") as f:
                f.write(pasted_table(eol))
            check(variant, [path], "\t", want=PASTED_WANT)
            n += 1
        # Two files merged into one feed.
        a, b = os.path.join(d, "a.csv"), os.path.join(d, "b.csv")
        with open(a, "wb") as f:
            f.write(encode_table(HEADERS[0], ROWS[:2], ",", "\n", False))
        with open(b, "wb") as f:
            f.write(encode_table(HEADERS[1], ROWS[2:], ",", "\r\n", True))
        check("two-files", [a, b], ",")
        n += 1
    finally:
        shutil.rmtree(d)
    print(f"{n - min(failures, n)} passed, {min(failures, n)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
