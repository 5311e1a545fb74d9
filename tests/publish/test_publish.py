#!/usr/bin/python3
"""Cron-safe publishing, end to end: atomic, change-aware, locked, split.

Usage: test_publish.py EPCAL [TEST ...]. Every check runs the real binary
on files in a scratch directory; nothing here measures time. Checks that
need root (mounting a tmpfs) skip with a message where that is not allowed.
"""
import json
import resource
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from icalendar import Calendar

EPCAL = None
SKIPPED = []
HEADER = "show,season,episode,air_date,title,description\n"


def run(*args, env=None, check_code=0, **kw):
    e = dict(os.environ)
    e.pop("SOURCE_DATE_EPOCH", None)  # change tracking must work without it
    e.update(env or {})
    if "stdout" in kw:
        kw.setdefault("stderr", subprocess.PIPE)
    else:
        kw["capture_output"] = True
    p = subprocess.run([EPCAL, *args], env=e, timeout=300, **kw)
    if check_code is not None and p.returncode != check_code:
        raise AssertionError(f"epcal {' '.join(args)}: exit {p.returncode}, "
                             f"expected {check_code}\n{p.stderr.decode()}")
    return p


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def events(path):
    """UID -> decoded VEVENT, by python3-icalendar (an independent parser)."""
    cal = Calendar.from_ical(read(path))
    out = {}
    for ev in cal.walk("VEVENT"):
        uid = str(ev["UID"])
        assert uid not in out, f"duplicate UID {uid}"
        out[uid] = ev
    return out


def rows(n, season=1, start_day=1):
    lines = []
    for i in range(1, n + 1):
        day = (start_day + i - 2) % 28 + 1
        lines.append(f"Show,{season},{i},2023-03-{day:02d},Title {i},"
                     f"\"Text {i}, with; specials\"\n")
    return "".join(lines)


def no_temporaries(d, name="feed.ics"):
    left = [f for f in os.listdir(d) if f.startswith("." + name + ".")]
    assert not left, f"temporary or lock files left behind: {left}"


# ---------------------------------------------------------------- checks

def test_unchanged_input_leaves_file_untouched(d):
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(20))
    run("generate", csv, "-o", out)
    st1 = os.stat(out)
    assert oct(st1.st_mode & 0o777) == "0o644", oct(st1.st_mode)
    time.sleep(1.1)  # a rewrite would show in the mtime
    run("generate", csv, "-o", out)
    st2 = os.stat(out)
    assert (st1.st_ino, st1.st_mtime_ns) == (st2.st_ino, st2.st_mtime_ns), \
        "an unchanged feed was rewritten"


def test_one_change_bumps_only_that_sequence(d):
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(20))
    run("generate", csv, "-o", out, env={"SOURCE_DATE_EPOCH": "1600000000"})
    before = events(out)
    text = HEADER + rows(20)
    assert "Show,1,7,2023-03-07," in text
    text = text.replace("Show,1,7,2023-03-07,", "Show,1,7,2023-04-07,")
    write(csv, text)
    p = run("generate", "-v", csv, "-o", out,
            env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert b"(0 new, 1 changed, 19 unchanged, 0 removed)" in p.stderr, p.stderr
    after = events(out)
    assert before.keys() == after.keys()
    changed = [u for u in after if after[u].to_ical() != before[u].to_ical()]
    assert len(changed) == 1 and "s01e07" in changed[0], changed
    ev, old = after[changed[0]], before[changed[0]]
    assert int(old["SEQUENCE"]) == 0 and int(ev["SEQUENCE"]) == 1
    assert ev.decoded("DTSTAMP") != old.decoded("DTSTAMP")
    assert ev.decoded("LAST-MODIFIED") == ev.decoded("DTSTAMP")
    assert str(ev.decoded("DTSTART")) == "2023-04-07"
    # A third run with nothing new keeps the bumped stamps as they are.
    mtime = os.stat(out).st_mtime_ns
    run("generate", csv, "-o", out, env={"SOURCE_DATE_EPOCH": "1800000000"})
    assert os.stat(out).st_mtime_ns == mtime


def test_last_modified_of_another_time_counts_as_a_change(d):
    """epcal writes LAST-MODIFIED equal to DTSTAMP and keeps only a bit of
    it; an event whose LAST-MODIFIED is another time (another program's
    feed) cannot be written again as it was: it counts as changed."""
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(5))
    run("generate", csv, "-o", out, env={"SOURCE_DATE_EPOCH": "1600000000"})
    run("generate", csv, "-o", out, env={"SOURCE_DATE_EPOCH": "1650000000"})
    # Event 2 changed once (LAST-MODIFIED = DTSTAMP), event 4 edited by
    # hand to another LAST-MODIFIED.
    text = read(out).decode()
    blocks = text.split("BEGIN:VEVENT")
    for i, b in enumerate(blocks):
        if "s01e02" in b:
            blocks[i] = b.replace("SEQUENCE:0\r\n", "SEQUENCE:3\r\n"
                                  "LAST-MODIFIED:20200913T122640Z\r\n")
        if "s01e04" in b:
            blocks[i] = b.replace("SEQUENCE:0\r\n", "SEQUENCE:2\r\n"
                                  "LAST-MODIFIED:20190101T000000Z\r\n")
    write(out, "BEGIN:VEVENT".join(blocks))
    before = events(out)
    p = run("generate", "-v", csv, "-o", out,
            env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert b"(0 new, 1 changed, 4 unchanged, 0 removed)" in p.stderr, p.stderr
    after = events(out)
    for uid, ev in after.items():
        if "s01e04" in uid:
            assert int(ev["SEQUENCE"]) == 3, ev
            assert ev.decoded("LAST-MODIFIED") == ev.decoded("DTSTAMP") != \
                before[uid].decoded("DTSTAMP")
        else:
            assert ev.to_ical() == before[uid].to_ical(), uid
    assert "LAST-MODIFIED" in str(after[[u for u in after if "s01e02" in u][0]])


def test_existing_mode_is_kept(d):
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(3))
    run("generate", csv, "-o", out)
    os.chmod(out, 0o640)
    write(csv, HEADER + rows(4))
    run("generate", csv, "-o", out)
    assert os.stat(out).st_mode & 0o777 == 0o640


def test_damaged_previous_feed_is_ignored_with_a_warning(d):
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(3))
    write(out, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:cut")
    p = run("generate", csv, "-o", out)
    assert b"warning: previous feed ignored: " in p.stderr, p.stderr
    assert len(events(out)) == 3


def test_removed_episode_is_counted(d):
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(5))
    run("generate", csv, "-o", out)
    write(csv, HEADER + rows(4))
    p = run("generate", "-v", csv, "-o", out)
    assert b"(0 new, 0 changed, 4 unchanged, 1 removed)" in p.stderr, p.stderr


def test_invalid_input_leaves_old_feed(d):
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(3))
    run("generate", csv, "-o", out)
    old = read(out)
    write(csv, HEADER + rows(3) + "Show,1,9,2023-02-30,x,y\n")
    p = run("generate", csv, "-o", out, check_code=1)
    assert re.search(rb"in.csv:5:\d+: date", p.stderr), p.stderr
    assert read(out) == old
    no_temporaries(d)


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}",
                        "tmpfs", path], capture_output=True)
    return p.returncode == 0


def test_full_disk_leaves_old_feed(d):
    mnt = f"{d}/small"
    if not mount_tmpfs(mnt, "256k"):
        SKIPPED.append("full disk (cannot mount a tmpfs here)")
        return
    try:
        csv, out = f"{d}/in.csv", f"{mnt}/feed.ics"
        write(csv, HEADER + rows(3))
        run("generate", csv, "-o", out)
        old = read(out)
        write(csv, HEADER + rows(5000))  # about 2 MB of feed: does not fit
        p = run("generate", csv, "-o", out, check_code=3)
        assert b"No space left on device" in p.stderr, p.stderr
        assert read(out) == old
        no_temporaries(mnt)
    finally:
        subprocess.run(["umount", mnt])


def test_read_only_directory_leaves_old_feed(d):
    mnt = f"{d}/ro"
    if not mount_tmpfs(mnt, "1m"):
        SKIPPED.append("read-only directory (cannot mount a tmpfs here)")
        return
    try:
        csv, out = f"{d}/in.csv", f"{mnt}/feed.ics"
        write(csv, HEADER + rows(3))
        run("generate", csv, "-o", out)
        old = read(out)
        subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
        write(csv, HEADER + rows(4))
        p = run("generate", csv, "-o", out, check_code=3)
        assert b"Read-only file system" in p.stderr, p.stderr
        assert out.encode() in p.stderr, p.stderr
        assert read(out) == old
    finally:
        subprocess.run(["umount", mnt])


def big_input(d, n=500000):
    csv = f"{d}/big.csv"
    with open(csv, "w") as f:
        f.write(HEADER)
        for i in range(1, n + 1):
            f.write(f"Big Show,{i // 1000 + 1},{i % 1000 + 1},2023-01-01,"
                    f"Episode {i},\"A description long enough to make the "
                    f"feed take a while to write; row {i}\"\n")
    return csv


def wait_for_temporary(d, name, proc, old=(), limit=60):
    """Waits until proc's own temporary file (not one in `old`) has grown."""
    end = time.time() + limit
    while time.time() < end and proc.poll() is None:
        for f in os.listdir(d):
            if f.startswith("." + name + ".") and f not in old:
                if os.path.getsize(os.path.join(d, f)) > 1 << 20:
                    return True
        time.sleep(0.01)
    return False


def test_kill_mid_write_leaves_old_feed(d):
    small, out = f"{d}/small.csv", f"{d}/feed.ics"
    write(small, HEADER + rows(3))
    run("generate", small, "-o", out)
    old = read(out)
    big = big_input(d)
    for sig, expect_clean in ((signal.SIGKILL, False), (signal.SIGTERM, True)):
        old_files = set(os.listdir(d))
        proc = subprocess.Popen([EPCAL, "generate", big, "-o", out],
                                stderr=subprocess.PIPE)
        if not wait_for_temporary(d, "feed.ics", proc, old_files):
            proc.kill()
            proc.wait()
            SKIPPED.append(f"{sig.name}: the run ended before it was caught")
            continue
        proc.send_signal(sig)
        proc.wait()
        assert proc.returncode == -sig, (sig, proc.returncode)
        assert read(out) == old, f"{sig.name} changed the old feed"
        assert len(events(out)) == 3
        if expect_clean:
            no_temporaries(d)
    # The next run clears what SIGKILL left and writes the new feed.
    run("generate", small, "-o", out)
    no_temporaries(d)


def test_concurrent_runs_are_serialised(d):
    out = f"{d}/feed.ics"
    big = big_input(d, 200000)
    first = subprocess.Popen([EPCAL, "generate", big, "-o", out],
                             stderr=subprocess.PIPE)
    time.sleep(0.2)
    second = subprocess.run([EPCAL, "generate", big, "-o", out], timeout=300,
                            capture_output=True)
    if first.poll() is None:
        assert second.returncode == 5, (second.returncode, second.stderr)
        assert b"another epcal run is writing this output" in second.stderr
    third = subprocess.run([EPCAL, "generate", "--wait", "120", big, "-o",
                            out], timeout=300, capture_output=True)
    assert third.returncode == 0, third.stderr
    first.wait()
    assert first.returncode == 0
    data = read(out)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert data.count(b"BEGIN:VEVENT\r\n") == 200000
    no_temporaries(d)


def test_standard_output_to_pipe_file_and_append(d):
    """Standard output is copied from the spool by the kernel where it can
    (a pipe, a file) and by hand where it cannot (a file opened to append):
    the bytes are the same every way."""
    csv = f"{d}/in.csv"
    write(csv, HEADER + rows(3000))
    piped = run("generate", csv, env={"SOURCE_DATE_EPOCH": "1"}).stdout
    assert piped.count(b"BEGIN:VEVENT\r\n") == 3000
    with open(f"{d}/out.ics", "wb") as f:
        run("generate", csv, env={"SOURCE_DATE_EPOCH": "1"}, stdout=f)
    assert read(f"{d}/out.ics") == piped
    with open(f"{d}/log.ics", "wb") as f:
        f.write(b"before\n")
    with open(f"{d}/log.ics", "ab") as f:
        run("generate", csv, env={"SOURCE_DATE_EPOCH": "1"}, stdout=f)
    assert read(f"{d}/log.ics") == b"before\n" + piped


def test_repeats_caught_whatever_the_input_is(d):
    """The repeat check has a compact index for files (read again to
    confirm a repeat) and an exact one for what cannot be read again:
    a pipe, and standard input even when it is a regular file. Every way,
    the repeat is dropped with the same warning and the conflict is an
    error naming both lines."""
    csv = f"{d}/in.csv"
    write(csv, HEADER + "A,1,1,2024-01-01,one,\nA,1,2,2024-01-08,two,\n"
          "A,1,1,2024-01-01,one,\nA,1,2,2024-01-09,other,\n")
    want = [b'4:1: warning: S01E01 of "A" repeats ', b':2; dropped',
            b'5:1: warning: skipped row: S01E02 of "A" is also at ']
    ways = {
        "file": dict(args=[csv]),
        "stdin from a file": dict(args=["-"], stdin=open(csv, "rb")),
        "stdin from a pipe": dict(args=["-"], input=read(csv)),
    }
    for name, way in ways.items():
        p = run("generate", "--skip-invalid", *way["args"], check_code=4,
                **{k: v for k, v in way.items() if k != "args"})
        for w in want:
            assert w in p.stderr, (name, p.stderr)
        assert p.stdout.count(b"BEGIN:VEVENT") == 2, name


def test_split_feeds_and_index(d):
    csv, out = f"{d}/in.csv", f"{d}/site"
    write(csv, HEADER + rows(3, season=1) + rows(2, season=2) +
          "\"Other, Show\",0,1,2023-12-24,Special,\n"
          "\"Other, Show\",1,1,TBA,,\n")
    run("generate", "--split", "season", "--output-dir", out, csv)
    index = json.loads(read(f"{out}/index.json"))
    listed = sorted(f["path"] for f in index["feeds"])
    written = sorted(os.path.relpath(os.path.join(r, f), out)
                     for r, _, fs in os.walk(out) for f in fs
                     if f.endswith(".ics"))
    assert listed == written == ["other-show/season-00.ics",
                                 "show/season-01.ics",
                                 "show/season-02.ics"], (listed, written)
    for f in index["feeds"]:
        evs = events(os.path.join(out, f["path"]))
        assert len(evs) == f["events"], f
        dates = sorted(str(e.decoded("DTSTART")) for e in evs.values())
        assert (dates[0], dates[-1]) == (f["first"], f["last"]), f
    html = read(f"{out}/index.html").decode()
    assert 'href="show/season-02.ics"' in html

    # Season 2 leaves the input: kept without --prune, removed with it.
    write(csv, HEADER + rows(3, season=1))
    run("generate", "--split", "season", "--output-dir", out, csv)
    assert os.path.exists(f"{out}/show/season-02.ics")
    assert os.path.exists(f"{out}/other-show/season-00.ics")
    p = run("generate", "-v", "--split", "season", "--output-dir", out,
            "--prune", csv)
    assert b"2 pruned" in p.stderr, p.stderr
    assert not os.path.exists(f"{out}/show/season-02.ics")
    assert not os.path.exists(f"{out}/other-show")
    # Unchanged input: no feed is rewritten.
    mtimes = {f: os.stat(f"{out}/{f}").st_mtime_ns
              for f in ("show/season-01.ics", "index.json", "index.html")}
    time.sleep(1.1)
    run("generate", "--split", "season", "--output-dir", out, csv)
    for f, m in mtimes.items():
        assert os.stat(f"{out}/{f}").st_mtime_ns == m, f"{f} was rewritten"


def test_split_shows_with_one_slug_get_their_own_feeds(d):
    """"Café" and "Cafe!" slug alike: the one seen second gets the slug and
    a hash of its name, for all its feeds, and each feed holds only its own
    show's episodes. Later runs keep every show's path, whatever the order
    of rows (the previous index.json says whose the plain slug is): a
    subscriber's URL never turns into another show's calendar."""
    csv, out = f"{d}/in.csv", f"{d}/site"
    rows_cafe = ["Café,1,1,2023-01-01,A,\n", "Café,1,2,2023-01-03,C,\n"]
    rows_other = ["Cafe!,1,1,2023-01-02,B,\n", "Cafe!,2,1,2023-01-04,D,\n"]

    def paths():
        index = json.loads(read(f"{out}/index.json"))
        by_show = {}
        for f in index["feeds"]:
            by_show.setdefault(f["show"], []).append(f["path"])
            titles = sorted(str(e["SUMMARY"]) for e in
                            events(os.path.join(out, f["path"])).values())
            assert all(t.startswith(f["show"]) for t in titles), (f, titles)
        return by_show

    orders = [rows_cafe + rows_other, rows_other + rows_cafe,
              [rows_other[0], rows_cafe[0], rows_other[1], rows_cafe[1]]]
    first = None
    for order in orders:
        write(csv, HEADER + "".join(order))
        run("generate", "--split", "season", "--output-dir", out, csv)
        by_show = paths()
        if first is None:
            first = by_show
            assert by_show["Café"] == ["cafe/season-01.ics"], by_show
            other = by_show["Cafe!"]
            assert len(other) == 2 and all(
                re.fullmatch(r"cafe-[0-9a-f]{8}/season-0[12]\.ics", p)
                for p in other) and \
                len({os.path.dirname(p) for p in other}) == 1, other
        assert {k: sorted(v) for k, v in by_show.items()} == \
            {k: sorted(v) for k, v in first.items()}, (order, by_show)

    # A new show with the same slug, first in the input: the others keep
    # their paths, the newcomer gets the slug and a hash of its name.
    write(csv, HEADER + "CAFE,1,1,2023-02-01,E,\n" + "".join(orders[1]))
    run("generate", "--split", "season", "--output-dir", out, csv)
    by_show = paths()
    assert {k: sorted(v) for k, v in by_show.items() if k != "CAFE"} == \
        {k: sorted(v) for k, v in first.items()}, by_show
    assert re.fullmatch(r"cafe-[0-9a-f]{8}/season-01\.ics",
                        by_show["CAFE"][0]) and \
        by_show["CAFE"][0] not in first["Cafe!"], by_show

    # Without the index (a new directory), the first show seen has the slug.
    out = f"{d}/new"
    write(csv, HEADER + "".join(rows_other + rows_cafe))
    run("generate", "--split", "season", "--output-dir", out, csv)
    assert sorted(paths()["Cafe!"]) == ["cafe/season-01.ics",
                                        "cafe/season-02.ics"], paths()


def test_split_feed_depends_only_on_its_own_events(d):
    """A feed names only the time zones its own events use, and its bytes
    do not move when another feed changes; a changed episode bumps its
    SEQUENCE in its own feed only, and a removed one is counted."""
    csv, out = f"{d}/in.csv", f"{d}/site"
    head = "show,season,episode,title,air_date,air_time,timezone\n"
    alpha = "Alpha,1,1,A1,2024-01-01,,\nAlpha,1,2,A2,2024-01-08,,\n"
    write(csv, head + alpha + "Beta,1,1,B1,2024-01-02,21:00,Europe/Paris\n")
    run("generate", "--split", "season", "--output-dir", out, csv)
    a, b = f"{out}/alpha/season-01.ics", f"{out}/beta/season-01.ics"
    assert b"VTIMEZONE" not in read(a)
    assert read(b).count(b"BEGIN:VTIMEZONE") == 1
    before = read(a)
    # Another zone and a changed time in Beta: Alpha stays byte for byte.
    write(csv, head + alpha + "Beta,1,1,B1,2024-01-02,22:00,Asia/Tokyo\n"
          "Beta,1,2,B2,2024-01-09,21:00,Europe/Paris\n")
    p = run("generate", "-v", "--split", "season", "--output-dir", out, csv)
    assert read(a) == before
    assert b"TZID:Asia/Tokyo" in read(b) and b"TZID:Europe/Paris" in read(b)
    evs = events(b)
    seqs = {str(e["SUMMARY"]): int(e.get("SEQUENCE", 0)) for e in evs.values()}
    assert seqs == {"Beta S01E01 \u2013 B1": 1, "Beta S01E02 \u2013 B2": 0}, seqs
    assert b"1 new, 1 changed, 2 unchanged, 0 removed" in p.stderr, p.stderr
    # Alpha's second episode leaves: counted as removed, Beta untouched.
    before_b = read(b)
    write(csv, head + "Alpha,1,1,A1,2024-01-01,,\n"
          "Beta,1,1,B1,2024-01-02,22:00,Asia/Tokyo\n"
          "Beta,1,2,B2,2024-01-09,21:00,Europe/Paris\n")
    p = run("generate", "-v", "--split", "season", "--output-dir", out, csv)
    assert b"1 removed" in p.stderr, p.stderr
    assert read(b) == before_b
    assert len(events(a)) == 1


def test_split_with_more_feeds_than_descriptors(d):
    """Thousands of feeds are kept as temporary files but never all open:
    a first run, an unchanged rerun and a changed one all work with 128
    descriptors for 300 feeds."""
    csv, out = f"{d}/in.csv", f"{d}/site"
    body = "".join(f"Show,{s},1,2024-01-{1 + s % 28:02d},T{s},\n"
                   for s in range(1, 301))
    write(csv, HEADER + body)

    def few_descriptors():
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    for text in (body, body, body.replace("T7,", "T7 changed,")):
        write(csv, HEADER + text)
        run("generate", "--split", "season", "--output-dir", out, csv,
            preexec_fn=few_descriptors)
    assert len(json.loads(read(f"{out}/index.json"))["feeds"]) == 300
    assert b"T7 changed" in read(f"{out}/show/season-07.ics")
    hidden = [f for f in os.listdir(f"{out}/show") if f.startswith(".")]
    assert not hidden, f"temporary files left behind: {hidden}"


def test_split_interleaved_input_reopens_finished_feeds(d):
    """More feeds than are kept live (256), their rows interleaved: every
    feed is finished and reopened, and the files are byte for byte those of
    the same rows grouped by season, whether a feed was first left with
    bytes unlike its target's or exactly its target's (then its bytes are
    taken from the target), with and without time zones."""
    head = "show,season,episode,title,air_date,air_time,timezone\n"
    n = 1100

    def row(season, ep, title=None):
        zone = ("21:00,Europe/Paris" if (season % 3 == 0 and ep == 1) else
                "09:30,Asia/Tokyo" if (season % 5 == 0 and ep == 3) else ",")
        return (f"Show,{season},{ep},{title or f'T{season}.{ep}'},"
                f"2024-{1 + ep:02d}-{1 + season % 28:02d},{zone}\n")

    def grouped(eps, change=None):
        return head + "".join(row(s, e, change if (s, e) == (500, 3) else None)
                              for s in range(1, n + 1) for e in eps)

    def interleaved(eps, change=None):
        return head + "".join(row(s, e, change if (s, e) == (500, 3) else None)
                              for e in eps for s in range(1, n + 1))

    fixed = {"SOURCE_DATE_EPOCH": "1700000000"}

    def split(text, out, *extra):
        write(f"{d}/in.csv", text)
        return run("generate", "-v", "--split", "season", "--output-dir", out,
                   *extra, f"{d}/in.csv", env=fixed)

    def files(out):
        got = {}
        for r, _, fs in os.walk(out):
            for f in fs:
                path = os.path.join(r, f)
                assert not f.startswith("."), \
                    f"temporary or hidden file left: {path}"
                got[os.path.relpath(path, out)] = read(path)
        return got

    split(grouped([1, 2, 3]), f"{d}/g")
    want = files(f"{d}/g")
    assert len([f for f in want if f.endswith(".ics")]) == n
    p = split(interleaved([1, 2, 3]), f"{d}/i")
    assert files(f"{d}/i") == want
    assert f"{n} feeds ({n} changed".encode() in p.stderr, p.stderr
    # Unchanged: every feed is left with other bytes than its target's
    # (part of its events), reopened from its temporary file, and at the
    # end found unchanged; nothing is rewritten.
    mtimes = {f: os.stat(f"{d}/g/{f}").st_mtime_ns for f in want}
    p = split(interleaved([1, 2, 3]), f"{d}/g")
    assert f"{n} feeds (0 changed".encode() in p.stderr, p.stderr
    assert files(f"{d}/g") == want
    for f, m in mtimes.items():
        assert os.stat(f"{d}/g/{f}").st_mtime_ns == m, f"{f} was rewritten"
    # Left exactly as its target (which has episode 1 only), then reopened
    # from the target's bytes.
    split(grouped([1]), f"{d}/t")
    p = split(interleaved([1, 2, 3]), f"{d}/t")
    assert files(f"{d}/t") == want
    # Episode 4 of every season leaves: every feed, finished and reopened
    # twice, counts its removed episode once.
    split(grouped([1, 2, 3, 4]), f"{d}/r")
    p = split(interleaved([1, 2, 3]), f"{d}/r")
    assert (f"0 new, 0 changed, {3 * n} unchanged, {n} removed".encode()
            in p.stderr), p.stderr
    assert files(f"{d}/r") == want
    # One changed episode changes its own feed only, SEQUENCE bumped.
    p = split(interleaved([1, 2, 3], change="New"), f"{d}/g")
    assert f"{n} feeds (1 changed".encode() in p.stderr, p.stderr
    got = files(f"{d}/g")
    changed = got.pop("show/season-500.ics")
    assert changed != want.pop("show/season-500.ics")
    assert b"SEQUENCE:1" in changed and b"T500.3" not in changed
    assert got == want


# ------------------------------------------------- targets (issue 14)

def listing(d):
    return sorted(os.listdir(d))


def feed_bytes(csv):
    return run("generate", csv, env={"SOURCE_DATE_EPOCH": "1"}).stdout


def test_device_as_output_is_written_through(d):
    """-o a character device (a private null device, never the system's)
    writes to it: the node stays a device, nothing is made beside it, and
    no previous feed is read from it. A symlink to it likewise."""
    csv = f"{d}/in.csv"
    write(csv, HEADER + rows(3))
    out = f"{d}/out"
    os.mkdir(out)
    null = f"{out}/null"
    try:
        os.mknod(null, 0o666 | 0o020000, os.makedev(1, 3))
    except PermissionError:
        SKIPPED.append("device as output (cannot mknod here)")
        return
    os.symlink("null", f"{out}/stdout")
    for target in (null, f"{out}/stdout"):
        p = run("generate", "-v", csv, "-o", target)
        assert b"3 new" in p.stderr, p.stderr
        st = os.lstat(null)
        assert (st.st_mode & 0o170000) == 0o020000, oct(st.st_mode)
        assert os.path.islink(f"{out}/stdout")
        assert listing(out) == ["null", "stdout"], listing(out)


def test_fifo_as_output_streams(d):
    """-o a FIFO streams the feed into it (no temporary file, no lock file,
    no previous feed read from it); the FIFO stays a FIFO. With no reader
    the run waits for one, and SIGTERM ends the wait."""
    csv = f"{d}/in.csv"
    write(csv, HEADER + rows(2000))
    want = feed_bytes(csv)
    out = f"{d}/out"
    os.mkdir(out)
    fifo = f"{out}/fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([EPCAL, "generate", csv, "-o", fifo],
                            env=dict(os.environ, SOURCE_DATE_EPOCH="1"),
                            stderr=subprocess.PIPE)
    # Read without blocking, so that a run that never writes cannot hang
    # the test.
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    got, end = b"", time.time() + 60
    try:
        while time.time() < end:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                chunk = None
            if chunk:
                got += chunk
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.01)
    finally:
        os.close(fd)
        if proc.poll() is None:
            proc.kill()
    assert proc.wait(timeout=60) == 0, proc.stderr.read()
    assert got == want, (len(got), len(want))
    assert listing(out) == ["fifo"] and os.path.exists(fifo)
    assert (os.lstat(fifo).st_mode & 0o170000) == 0o010000
    # No reader: a signal ends the wait, as it ends any other part.
    proc = subprocess.Popen([EPCAL, "generate", csv, "-o", fifo],
                            stderr=subprocess.PIPE)
    time.sleep(0.5)
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == -signal.SIGTERM
    assert listing(out) == ["fifo"]


def test_socket_as_output_is_written_through(d):
    """-o a Unix stream socket connects to it and streams the feed."""
    import socket
    import threading
    csv = f"{d}/in.csv"
    write(csv, HEADER + rows(500))
    want = feed_bytes(csv)
    out = f"{d}/out"
    os.mkdir(out)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(f"{out}/sock")
    srv.listen(1)
    srv.settimeout(60)
    got = []

    def serve():
        conn, _ = srv.accept()
        conn.settimeout(60)
        data = b""
        while True:
            chunk = conn.recv(1 << 16)
            if not chunk:
                break
            data += chunk
        got.append(data)
        conn.close()

    t = threading.Thread(target=serve)
    t.start()
    try:
        run("generate", csv, "-o", f"{out}/sock",
            env={"SOURCE_DATE_EPOCH": "1"})
    finally:
        t.join(timeout=60)
        srv.close()
    assert got == [want], [len(g) for g in got]
    assert listing(out) == ["sock"]


def test_standard_output_through_a_symlink(d):
    """A path that leads to the file standard output already is (here a
    private link to /proc/self/fd/1, like /dev/stdout) is standard output:
    into a pipe the feed arrives, and into a file redirected by the shell
    it is written there, not renamed over it."""
    csv = f"{d}/in.csv"
    write(csv, HEADER + rows(5))
    want = feed_bytes(csv)
    link = f"{d}/stdout"
    os.symlink("/proc/self/fd/1", link)
    p = subprocess.run([EPCAL, "generate", csv, "-o", link], timeout=60,
                       capture_output=True,
                       env=dict(os.environ, SOURCE_DATE_EPOCH="1"))
    assert p.returncode == 0 and p.stdout == want, p.stderr
    with open(f"{d}/log.txt", "wb") as f:
        f.write(b"a log, not a feed\n")
    with open(f"{d}/log.txt", "ab") as f:
        run("generate", csv, "-o", link, env={"SOURCE_DATE_EPOCH": "1"},
            stdout=f)
    assert read(f"{d}/log.txt") == b"a log, not a feed\n" + want
    assert os.path.islink(link)


def test_symlink_target_is_replaced_in_its_own_directory(d):
    """-o a symlink: the file it points to is replaced atomically in its
    own directory (the link stays a link), a dangling link's target is
    created, and nothing is left in either directory."""
    csv = f"{d}/in.csv"
    pub, real = f"{d}/pub", f"{d}/real"
    os.mkdir(pub)
    os.mkdir(real)
    os.symlink("../real/feed.ics", f"{pub}/feed.ics")
    write(csv, HEADER + rows(3))
    run("generate", csv, "-o", f"{pub}/feed.ics")  # dangling: created
    assert os.path.islink(f"{pub}/feed.ics")
    assert len(events(f"{real}/feed.ics")) == 3
    ino = os.stat(f"{real}/feed.ics").st_ino
    write(csv, HEADER + rows(4))
    run("generate", csv, "-o", f"{pub}/feed.ics")
    assert os.path.islink(f"{pub}/feed.ics")
    assert len(events(f"{real}/feed.ics")) == 4
    assert os.stat(f"{real}/feed.ics").st_ino != ino  # renamed into place
    assert listing(pub) == ["feed.ics"] and listing(real) == ["feed.ics"]


def test_directory_as_output_is_a_usage_error(d):
    csv = f"{d}/in.csv"
    write(csv, HEADER + rows(3))
    os.mkdir(f"{d}/feeds")
    p = run("generate", csv, "-o", f"{d}/feeds", check_code=2)
    assert b"is a directory" in p.stderr, p.stderr
    assert listing(f"{d}/feeds") == []


def test_output_naming_an_input_is_refused(d):
    """-o naming one of the inputs (by name, through a symlink, through a
    hard link, or standard input) is a usage error; the CSV is intact."""
    csv = f"{d}/in.csv"
    text = HEADER + rows(3)
    write(csv, text)
    os.symlink("in.csv", f"{d}/link.csv")
    os.link(csv, f"{d}/hard.csv")
    for args in ([csv, "-o", csv], [f"{d}/other.csv", csv, "-o",
                                    f"{d}/link.csv"],
                 [csv, "-o", f"{d}/hard.csv"]):
        if "other.csv" in args[0]:
            write(args[0], HEADER + rows(1, season=2))
        p = run("generate", *args, check_code=2)
        assert b"is the input" in p.stderr, p.stderr
        assert read(csv).decode() == text
    with open(csv, "rb") as f:
        p = run("generate", "-o", csv, stdin=f, check_code=2)
    assert read(csv).decode() == text
    assert sorted(listing(d)) == ["hard.csv", "in.csv", "link.csv",
                                  "other.csv"], listing(d)


def test_only_feeds_are_replaced(d):
    """An existing target that is not an iCalendar feed is left alone
    (exit 2) unless --force; an empty file, or a feed after a byte-order
    mark, is replaced."""
    csv, out = f"{d}/in.csv", f"{d}/notes.txt"
    write(csv, HEADER + rows(3))
    write(out, "my notes\n")
    p = run("generate", csv, "-o", out, check_code=2)
    assert b"not an iCalendar feed" in p.stderr and b"--force" in p.stderr
    assert read(out) == b"my notes\n"
    assert listing(d) == ["in.csv", "notes.txt"], listing(d)
    run("generate", "--force", csv, "-o", out)
    assert len(events(out)) == 3
    write(out, "")
    run("generate", csv, "-o", out)
    assert len(events(out)) == 3
    data = read(out)
    with open(out, "wb") as f:
        f.write(b"\xef\xbb\xbf" + data.replace(b"Title 2", b"Old title"))
    run("generate", csv, "-o", out)
    assert read(out).startswith(b"BEGIN:VCALENDAR")


def test_empty_input_is_an_error_not_an_empty_calendar(d):
    """No header record (0 bytes, blank lines, empty standard input) is a
    data error naming the input; the previous feed stays. A header with no
    rows is still a valid empty calendar."""
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(3))
    run("generate", csv, "-o", out)
    old = read(out)
    for text in ("", "\n\n\r\n", "\ufeff"):
        write(csv, text)
        p = run("generate", csv, "-o", out, check_code=1)
        assert re.search(rb"in.csv: no header row", p.stderr), p.stderr
        assert read(out) == old
    for stdin in (b"", b"\n"):
        p = run("generate", "-o", out, input=stdin, check_code=1)
        assert b"-: no header row" in p.stderr, p.stderr
        assert read(out) == old
    assert listing(d) == ["feed.ics", "in.csv"], listing(d)
    # With --split too: nothing in the tree changes.
    write(csv, HEADER + rows(3))
    run("generate", "--split", "season", "--output-dir", f"{d}/site", csv)
    site = {f: read(f"{d}/site/{f}") for f in ("index.json",
                                               "show/season-01.ics")}
    write(csv, "")
    p = run("generate", "--split", "season", "--output-dir", f"{d}/site",
            csv, check_code=1)
    assert b"in.csv: no header row" in p.stderr, p.stderr
    assert {f: read(f"{d}/site/{f}") for f in site} == site
    write(csv, HEADER)
    p = run("generate", "--allow-shrink", csv, "-o", out)
    assert len(events(out)) == 0
    assert b"no episodes selected" in p.stderr


def test_previous_must_be_a_regular_file(d):
    """--previous naming a FIFO (no writer) or a device is a usage error at
    once: nothing waits, nothing is read without end."""
    csv = f"{d}/in.csv"
    write(csv, HEADER + rows(3))
    fifo = f"{d}/fifo"
    os.mkfifo(fifo)
    nodes = [fifo]
    try:
        os.mknod(f"{d}/zero", 0o666 | 0o020000, os.makedev(1, 5))
        nodes.append(f"{d}/zero")
    except PermissionError:
        SKIPPED.append("device as --previous (cannot mknod here)")
    for node in nodes:
        p = subprocess.run([EPCAL, "generate", csv, "--previous", node,
                            "-o", f"{d}/feed.ics"], timeout=30,
                           capture_output=True)
        assert p.returncode == 2, (node, p.returncode, p.stderr)
        assert b"must be a regular file" in p.stderr, p.stderr
    assert not os.path.exists(f"{d}/feed.ics")


def test_oversized_previous_feed_is_refused(d):
    """A previous feed far larger than the input (over 32 times, and over
    64 MiB) is not read: refused as a likely truncated input, or with
    --allow-shrink replaced without change tracking."""
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(3))
    run("generate", csv, "-o", out)
    data = read(out)
    with open(out, "r+b") as f:  # a sparse 65 MiB feed
        f.truncate(65 << 20)
    p = run("generate", csv, "-o", out, check_code=1)
    assert b"cut short" in p.stderr and b"--allow-shrink" in p.stderr
    assert os.path.getsize(out) == 65 << 20
    p = run("generate", "--allow-shrink", csv, "-o", out)
    assert b"previous feed not read" in p.stderr, p.stderr
    assert len(events(out)) == 3
    assert len(read(out)) < 2 * len(data)


def test_shrink_guard(d):
    """A run that would remove more than half of the feed's events (and at
    least 10) is refused with the counts; the feed stays. --allow-shrink
    and --max-removed let it through."""
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(30))
    run("generate", csv, "-o", out)
    old = read(out)
    write(csv, HEADER + rows(5))
    p = run("generate", csv, "-o", out, check_code=1)
    assert (b"feed.ics: this run would remove 25 of the feed's 30 events "
            b"(more than half)") in p.stderr, p.stderr
    assert b"--allow-shrink" in p.stderr
    assert read(out) == old
    assert listing(d) == ["feed.ics", "in.csv"], listing(d)
    p = run("generate", "--max-removed", "20", csv, "-o", out, check_code=1)
    assert b"(more than 20)" in p.stderr, p.stderr
    for bad in ("150%", "ten", "-1"):
        p = run("generate", "--max-removed", bad, csv, "-o", out,
                check_code=2)
        assert b"invalid --max-removed" in p.stderr, p.stderr
    p = run("generate", "--max-removed", "90%", "-v", csv, "-o", out)
    assert b"25 removed" in p.stderr, p.stderr
    write(csv, HEADER + rows(30))
    run("generate", csv, "-o", out)
    write(csv, HEADER + rows(5))
    p = run("generate", "--allow-shrink", "-v", csv, "-o", out)
    assert b"25 removed" in p.stderr, p.stderr
    assert len(events(out)) == 5
    # Fewer than 10 removed is never refused by default.
    write(csv, HEADER + rows(14))
    run("generate", csv, "-o", out)
    write(csv, HEADER + rows(5))
    run("generate", csv, "-o", out)
    assert len(events(out)) == 5


def test_rolling_window_never_trips_the_shrink_guard(d):
    """A 30-day --past-days window, run once a day for 60 days over a
    daily show, a weekly one and a 10-episode binge drop: events leave the
    window every day (the binge all at once) and the guard never trips.
    Nor in a feed of a 12-episode binge and a weekly show, where the binge
    leaving the window is most of the feed: episodes the window leaves out
    are still in the input, so they are not what the guard counts."""
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    binge_csv, binge_out = f"{d}/binge.csv", f"{d}/binge.ics"
    day0 = 1704067200  # 2024-01-01
    lines = [HEADER]
    for i in range(1, 151):  # daily, 2023-12-01 on
        lines.append(f"Daily,1,{i},{time.strftime('%Y-%m-%d', time.gmtime(day0 + (i - 32) * 86400))},D{i},\n")
    for i in range(1, 23):
        lines.append(f"Weekly,1,{i},{time.strftime('%Y-%m-%d', time.gmtime(day0 + (7 * i - 30) * 86400))},W{i},\n")
    for i in range(1, 11):
        lines.append(f"Binge,1,{i},2024-01-10,B{i},\n")
    write(csv, "".join(lines))
    write(binge_csv, HEADER + "".join(
        line.replace("Binge,1,10,", "Binge,1,11,") for line in lines
        if line.startswith(("Weekly,", "Binge,"))) +
        "Binge,1,12,2024-01-10,B12,\nBinge,1,10,2024-01-10,B10,\n")
    removed_total = {out: 0, binge_out: 0}
    for day in range(60):
        now = day0 + day * 86400 + 3600
        for i, o in ((csv, out), (binge_csv, binge_out)):
            p = run("generate", "-v", "--past-days", "30", "--future-days",
                    "7", i, "-o", o, env={"SOURCE_DATE_EPOCH": str(now),
                                          "TZ": "UTC"})
            m = re.search(rb"(\d+) removed", p.stderr)
            removed_total[o] += int(m.group(1))
            if day == 40 and o == binge_out:
                # The day the binge left: 12 of the feed's 15 events.
                assert b"12 removed" in p.stderr, p.stderr
    assert removed_total[out] >= 60, removed_total  # the window did move
    assert removed_total[binge_out] >= 12, removed_total
    assert listing(d) == ["binge.csv", "binge.ics", "feed.ics", "in.csv"], \
        listing(d)


def test_shrink_guard_counts_only_what_left_the_input(d):
    """Events a changed filter leaves out are still in the input: they
    leave the feed (counted as removed) but do not trip the guard; the same
    rows gone from the input do. Also with a uid column (other UIDs)."""
    for head, make in (
            (HEADER, lambda i: f"Show,1,{i},2023-03-{i:02d},T{i},\n"),
            ("uid,show,season,episode,air_date,title\n",
             lambda i: f"id;{i},Show,1,{i},2023-03-{i:02d},T{i}\n")):
        csv, out = f"{d}/in.csv", f"{d}/feed.ics"
        if os.path.exists(out):
            os.unlink(out)
        write(csv, head + "".join(make(i) for i in range(1, 21)))
        run("generate", csv, "-o", out)
        p = run("generate", "-v", "--to", "2023-03-05", csv, "-o", out)
        assert b"15 removed" in p.stderr, p.stderr
        assert len(events(out)) == 5
        run("generate", csv, "-o", out)
        write(csv, head + "".join(make(i) for i in range(1, 6)))
        p = run("generate", csv, "-o", out, check_code=1)
        assert b"remove 15 of the feed's 20 events" in p.stderr, p.stderr


def test_split_never_replaces_a_device_or_a_non_feed(d):
    """A split feed's path holding a device (a private node) or a file that
    is not a feed: the run fails (exit 2) naming it, and leaves it as it
    was."""
    csv, out = f"{d}/in.csv", f"{d}/site"
    write(csv, HEADER + rows(3, season=1) + rows(3, season=2))
    os.makedirs(f"{out}/show")
    write(f"{out}/show/season-02.ics", "not a feed\n")
    p = run("generate", "--split", "season", "--output-dir", out, csv,
            check_code=2)
    assert b"season-02.ics: is not an iCalendar feed" in p.stderr, p.stderr
    assert read(f"{out}/show/season-02.ics") == b"not a feed\n"
    os.unlink(f"{out}/show/season-02.ics")
    try:
        os.mknod(f"{out}/show/season-02.ics", 0o666 | 0o020000,
                 os.makedev(1, 3))
    except PermissionError:
        SKIPPED.append("device in a split tree (cannot mknod here)")
        return
    p = run("generate", "--split", "season", "--output-dir", out, csv,
            check_code=2)
    assert b"season-02.ics: " in p.stderr and b"regular file" in p.stderr, \
        p.stderr
    st = os.lstat(f"{out}/show/season-02.ics")
    assert (st.st_mode & 0o170000) == 0o020000


def test_split_shrink_guard_is_all_or_nothing(d):
    """With --split the rule holds per feed: when one feed would lose too
    many events, no feed is replaced (not even the ones that changed
    well), the message names the feed; --allow-shrink lets it through."""
    csv, out = f"{d}/in.csv", f"{d}/site"
    write(csv, HEADER + rows(20, season=1) + rows(20, season=2))
    run("generate", "--split", "season", "--output-dir", out, csv)
    before = {f: read(f"{out}/show/{f}") for f in listing(f"{out}/show")}
    index = read(f"{out}/index.json")
    write(csv, HEADER + rows(3, season=1) +
          rows(20, season=2).replace("Title 4,", "Title 4 changed,"))
    p = run("generate", "--split", "season", "--output-dir", out, csv,
            check_code=1)
    assert (b"show/season-01.ics: this run would remove 17 of the feed's 20 "
            b"events") in p.stderr, p.stderr
    assert {f: read(f"{out}/show/{f}") for f in listing(f"{out}/show")} == \
        before
    assert read(f"{out}/index.json") == index
    assert listing(f"{out}/show") == ["season-01.ics", "season-02.ics"]
    run("generate", "--allow-shrink", "--split", "season", "--output-dir",
        out, csv)
    assert len(events(f"{out}/show/season-01.ics")) == 3
    assert b"Title 4 changed" in read(f"{out}/show/season-02.ics")


def test_prune_is_under_the_shrink_guard(d):
    """--prune after a truncated input would delete the feeds of every show
    the input lost, which no per-feed count sees: the feeds it would
    remove count with their events, and a run that would remove most of
    what is published is refused with nothing removed or replaced. Losing
    one show of twelve goes through; --allow-shrink lets the big one."""
    out = f"{d}/site"
    full = split_input(f"{d}/full.csv", 12, episodes=2)
    run("generate", "--split", "season", "--output-dir", out, "--prune", full)
    before, _ = tree(out)
    assert len([f for f in before if f.endswith(".ics")]) == 12
    cut = split_input(f"{d}/cut.csv", 2, episodes=2)
    p = run("generate", "--split", "season", "--output-dir", out, "--prune",
            cut, check_code=1)
    assert b"--prune would remove 10 feeds (20 events)" in p.stderr, p.stderr
    assert b"20 of the 24 events" in p.stderr, p.stderr
    assert tree(out)[0] == before
    # Without --prune nothing is removed, so nothing is refused.
    run("generate", "--split", "season", "--output-dir", out, cut)
    run("generate", "--split", "season", "--output-dir", out, "--prune", full)
    eleven = split_input(f"{d}/eleven.csv", 11, episodes=2)
    run("generate", "--split", "season", "--output-dir", out, "--prune",
        eleven)
    assert len([f for f in tree(out)[0] if f.endswith(".ics")]) == 11
    run("generate", "--split", "season", "--output-dir", out, "--prune",
        "--allow-shrink", cut)
    assert len([f for f in tree(out)[0] if f.endswith(".ics")]) == 2


def test_split_shrink_guard_with_reopened_feeds(d):
    """More feeds than are kept live, rows interleaved: every feed is
    finished after its first episode and reopened eleven times, so after
    its first pass it looks as if it lost 11 of its 12 events. Only what
    no pass rendered counts: the run goes through, and a feed that really
    lost 11 is named."""
    csv, out = f"{d}/in.csv", f"{d}/site"
    n = 300

    def text(lost=None):
        return HEADER + "".join(
            f"Show,{season},{ep},2024-{ep:02d}-{1 + season % 28:02d},T,\n"
            for ep in range(1, 13) for season in range(1, n + 1)
            if not (season == lost and ep > 1))

    write(csv, text())
    run("generate", "--split", "season", "--output-dir", out, csv)
    p = run("generate", "-v", "--split", "season", "--output-dir", out, csv)
    assert f"{n} feeds (0 changed".encode() in p.stderr, p.stderr
    write(csv, text(lost=150))
    p = run("generate", "--split", "season", "--output-dir", out, csv,
            check_code=1)
    assert (b"show/season-150.ics: this run would remove 11 of the feed's "
            b"12 events") in p.stderr, p.stderr
    assert b"feeds would shrink" not in p.stderr, p.stderr
    assert len(events(f"{out}/show/season-150.ics")) == 12


def test_no_file_beside_the_output(d):
    """After a run, successful or not, the output's directory holds only
    the feed: no lock file, no temporary file. Runs on one existing feed
    still take turns (exit 5), and a run waits with --wait."""
    csv, pub = f"{d}/in.csv", f"{d}/pub"
    os.mkdir(pub)
    out = f"{pub}/feed.ics"
    write(csv, HEADER + rows(3))
    run("generate", csv, "-o", out)
    assert listing(pub) == ["feed.ics"], listing(pub)
    write(csv, HEADER + rows(3) + "Show,1,9,2023-02-30,x,y\n")
    run("generate", csv, "-o", out, check_code=1)
    assert listing(pub) == ["feed.ics"], listing(pub)
    big = big_input(d, 200000)
    run("generate", "--allow-shrink", big, "-o", out)
    first = subprocess.Popen([EPCAL, "generate", "--allow-shrink", big,
                              "-o", out], stderr=subprocess.PIPE)
    time.sleep(0.3)
    second = subprocess.run([EPCAL, "generate", "--allow-shrink", big, "-o",
                             out], timeout=300, capture_output=True)
    if first.poll() is None:
        assert second.returncode == 5, (second.returncode, second.stderr)
    else:
        SKIPPED.append("lock on an existing feed: the first run ended early")
    # A signal ends a long wait for the lock, leaving nothing behind.
    waiting = subprocess.Popen([EPCAL, "generate", "--wait", "600",
                                "--allow-shrink", big, "-o", out],
                               stderr=subprocess.PIPE)
    time.sleep(0.5)
    if first.poll() is None and waiting.poll() is None:
        waiting.send_signal(signal.SIGTERM)
        assert waiting.wait(timeout=30) == -signal.SIGTERM
    else:
        waiting.kill()
        waiting.wait()
        SKIPPED.append("signal during --wait: the first run ended early")
    third = subprocess.run([EPCAL, "generate", "--wait", "120",
                            "--allow-shrink", big, "-o", out], timeout=300,
                           capture_output=True)
    assert third.returncode == 0, third.stderr
    assert first.wait() == 0
    assert listing(pub) == ["feed.ics"], listing(pub)
    run("generate", "--split", "season", "--output-dir", f"{d}/site", csv,
        check_code=1)
    write(csv, HEADER + rows(3))
    run("generate", "--split", "season", "--output-dir", f"{d}/site", csv)
    assert listing(f"{d}/site") == ["index.html", "index.json", "show"], \
        listing(f"{d}/site")


# ------------------------------------------------- split and prune hygiene

TEMP = re.compile(r"^\..+\.epcal-[A-Za-z0-9]{6}\.tmp$")


def tree(root):
    """Every file below root (relative path -> bytes) and every directory,
    following no link."""
    files, dirs = {}, []
    for r, ds, fs in os.walk(root):
        for x in ds:
            dirs.append(os.path.relpath(os.path.join(r, x), root))
        for f in fs:
            path = os.path.join(r, f)
            files[os.path.relpath(path, root)] = (
                os.readlink(path) if os.path.islink(path) else read(path))
    return files, dirs


def litter(root):
    """Hidden files (lock files aside: another change removes them),
    temporary files and empty directories below root."""
    files, dirs = tree(root)
    bad = [f for f in files
           if os.path.basename(f).startswith(".") and not f.endswith(".lock")]
    bad += [x + "/" for x in dirs
            if not os.path.islink(os.path.join(root, x)) and
            not os.listdir(os.path.join(root, x))]
    return bad


def split_input(path, shows, seasons=1, episodes=1, prefix="Show"):
    with open(path, "w") as f:
        f.write(HEADER)
        for s in range(shows):
            for season in range(1, seasons + 1):
                for e in range(1, episodes + 1):
                    f.write(f"{prefix} {s},{season},{e},2024-01-{1 + e % 28:02d},"
                            f"Episode {e},\"A description to make the feed "
                            f"take a while to write, row {s}.{e}\"\n")
    return path


def test_split_killed_runs_leave_nothing_after_a_clean_run(d):
    """kill -9 in the middle of split runs leaves temporary files (and the
    new shows' directories); the next run, holding the lock, removes every
    one of them, in every show directory, and no empty directory stays."""
    out = f"{d}/site"
    small = split_input(f"{d}/small.csv", 3)
    run("generate", "--split", "season", "--output-dir", out, small)
    want = tree(out)
    # Shows not in the small input: each run makes their directories.
    big = split_input(f"{d}/big.csv", 3000, seasons=2, episodes=40,
                      prefix="Other")
    caught = 0
    # Killed at several points: its first feeds, thousands of them.
    for want_temps in (1, 30, 300, 2000, 5000):
        proc = subprocess.Popen([EPCAL, "generate", "--split", "season",
                                 "--output-dir", out, big],
                                stderr=subprocess.PIPE)
        end = time.time() + 120
        temps = 0
        while (time.time() < end and proc.poll() is None and
               temps < want_temps):
            # Any hidden file but a lock: a temporary file, whatever its
            # name.
            temps = sum(1 for r, _, fs in os.walk(out) for f in fs
                        if f.startswith(".") and not f.endswith(".lock"))
            time.sleep(0.005)
        proc.kill()
        proc.wait()
        if proc.returncode == -signal.SIGKILL and temps >= want_temps:
            caught += 1
        published = [f for f in tree(out)[0]
                     if f not in want[0] and not TEMP.match(
                         os.path.basename(f))]
        if proc.returncode == 0 or published:
            # On a loaded machine a run can finish, or be killed while it
            # renames its feeds into place, before it is caught: what it
            # published stays (complete feeds), so it is expected from now.
            run("generate", "--split", "season", "--output-dir", out, small)
            want = tree(out)
    if caught == 0:
        SKIPPED.append("split kill -9: every run ended before it was caught")
        return
    assert litter(out), "the killed runs left no temporary file"
    run("generate", "--split", "season", "--output-dir", out, small)
    assert not litter(out), f"left after a clean run: {litter(out)[:10]}"
    files, dirs = tree(out)
    got = {f: b for f, b in files.items() if not f.endswith(".lock")}
    expected = {f: b for f, b in want[0].items() if not f.endswith(".lock")}
    differ = sorted(f for f in set(got) | set(expected)
                    if got.get(f) != expected.get(f))
    assert not differ, f"differ after the clean run: {differ[:10]}"
    assert sorted(dirs) == sorted(want[1]), dirs[:10]


def test_failed_split_leaves_no_empty_directories(d):
    """A run that fails after it made new shows' directories (an invalid row
    at the end) removes them again; the old feeds are untouched."""
    out = f"{d}/site"
    small = split_input(f"{d}/small.csv", 2)
    run("generate", "--split", "season", "--output-dir", out, small)
    want = tree(out)
    bad = split_input(f"{d}/bad.csv", 50, prefix="New")
    with open(bad, "a") as f:
        f.write("New 0,1,2,not a date,Broken,\n")
    run("generate", "--split", "season", "--output-dir", out, bad,
        check_code=1)
    assert tree(out) == want, sorted(set(tree(out)[1]) - set(want[1]))[:5]
    assert not litter(out), litter(out)


def test_stale_cleanup_removes_only_epcal_temporaries(d):
    """Under the lock, a run removes what killed runs left, only files of
    the exact shape it makes: a user's .feed.ics.backup (and files merely
    like ours) survive, with -o and in a split tree."""
    csv, out = f"{d}/in.csv", f"{d}/feed.ics"
    write(csv, HEADER + rows(2))
    run("generate", csv, "-o", out)
    keep = [".feed.ics.backup", ".feed.ics.old", ".feed.ics.epcal-abc.tmp",
            ".feed.ics.epcal-abcdef.tmp.bak", ".other.ics.epcal-Ab12Cd.tmp",
            "feed.ics.epcal-Ab12Cd.tmp", ".feed.ics.epcal-Ab_2Cd.tmp"]
    for f in keep:
        write(f"{d}/{f}", "user data\n")
    write(f"{d}/outside.txt", "outside\n")
    os.symlink(f"{d}/outside.txt", f"{d}/.feed.ics.epcal-Lnk123.tmp")
    write(f"{d}/.feed.ics.epcal-Ab12Cd.tmp", "stale\n")
    write(f"{d}/.feed.ics.epcal-000000.tmp", "stale\n")
    run("generate", csv, "-o", out)
    for f in keep:
        assert read(f"{d}/{f}") == b"user data\n", f"{f} was touched"
    assert not os.path.exists(f"{d}/.feed.ics.epcal-Ab12Cd.tmp")
    assert not os.path.exists(f"{d}/.feed.ics.epcal-000000.tmp")
    assert os.path.islink(f"{d}/.feed.ics.epcal-Lnk123.tmp")
    assert read(f"{d}/outside.txt") == b"outside\n"

    site = f"{d}/site"
    small = split_input(f"{d}/small.csv", 2)
    run("generate", "--split", "season", "--output-dir", site, small)
    user = {"show-0/.season-01.ics.backup": "user",
            "show-0/notes.txt": "user",
            ".index.json.backup": "user",
            "My Drafts/.season-01.ics.epcal-Ab12Cd.tmp": "not a show dir",
            "show-1/.season-01.ics.epcal-Ab12C.tmp": "too short"}
    os.mkdir(f"{site}/My Drafts")
    os.mkdir(f"{site}/empty")  # a user's empty directory stays
    for f, text in user.items():
        write(f"{site}/{f}", text)
    stale = ["show-0/.season-01.ics.epcal-Ab12Cd.tmp",
             "show-1/.season-07.ics.epcal-x1y2z3.tmp",
             ".index.json.epcal-Q1w2E3.tmp", ".index.html.epcal-Q1w2E3.tmp",
             ".show-9.ics.epcal-Q1w2E3.tmp",
             "gone/.season-01.ics.epcal-Q1w2E3.tmp"]
    os.mkdir(f"{site}/gone")  # a killed run's directory: only its temporary
    for f in stale:
        write(f"{site}/{f}", "stale")
    run("generate", "--split", "season", "--output-dir", site, small)
    for f, text in user.items():
        assert read(f"{site}/{f}") == text.encode(), f"{f} was touched"
    for f in stale:
        assert not os.path.exists(f"{site}/{f}"), f"{f} was left"
    assert os.path.isdir(f"{site}/empty")
    assert not os.path.exists(f"{site}/gone")


def test_split_never_writes_through_a_link(d):
    """A show directory, or a feed, that is a symbolic link pointing out of
    the output directory: the run fails (exit 3) and nothing outside is
    written, created or removed; the other feeds are not published."""
    site, outside = f"{d}/site", f"{d}/outside"
    os.mkdir(site)
    os.mkdir(outside)
    write(f"{outside}/season-01.ics", "not yours\n")
    write(f"{outside}/secret.ics", "secret\n")
    os.symlink(outside, f"{site}/show-0")
    csv = split_input(f"{d}/in.csv", 2)
    before = tree(outside)
    p = run("generate", "--split", "season", "--output-dir", site, csv,
            check_code=3)
    assert b"symbolic link" in p.stderr, p.stderr
    assert tree(outside) == before
    assert not os.path.exists(f"{site}/show-1/season-01.ics")
    # A feed file that is a link out of the directory.
    os.unlink(f"{site}/show-0")
    os.mkdir(f"{site}/show-0")
    os.symlink(f"{outside}/season-01.ics", f"{site}/show-0/season-01.ics")
    p = run("generate", "--split", "season", "--output-dir", site, csv,
            check_code=3)
    assert b"symbolic link" in p.stderr, p.stderr
    assert tree(outside) == before
    # By show: the feed is STEM.ics in the directory itself.
    os.symlink(f"{outside}/secret.ics", f"{site}/show-1.ics")
    run("generate", "--split", "show", "--output-dir", site, csv,
        check_code=3)
    assert tree(outside) == before
    # The index files are written the same way.
    for f in ("show-0/season-01.ics", "show-1.ics"):
        os.unlink(f"{site}/{f}")
    os.symlink(f"{outside}/secret.ics", f"{site}/index.html")
    run("generate", "--split", "season", "--output-dir", site, csv,
        check_code=3)
    assert tree(outside) == before


def test_prune_removes_only_what_it_recorded_inside(d):
    """Hostile records (in index.json and in an old .epcal-feeds) naming
    paths outside the directory, through a linked directory, or files epcal
    never makes: --prune removes none of them, nor a feed-named file no
    record lists; it removes a recorded old feed."""
    site, outside = f"{d}/site", f"{d}/outside"
    os.mkdir(outside)
    for f in ("victim.ics", "season-01.ics"):
        write(f"{outside}/{f}", "outside\n")
    csv = split_input(f"{d}/in.csv", 2)
    old = split_input(f"{d}/old.csv", 3)  # show-2 then leaves the input
    run("generate", "--split", "season", "--output-dir", site, old)
    os.symlink(outside, f"{site}/link")
    write(f"{site}/user.ics", "user\n")
    os.mkdir(f"{site}/mine")
    write(f"{site}/mine/season-01.ics", "user\n")
    hostile = ["../outside/victim.ics", "show-0/../../outside/victim.ics",
               f"{outside}/victim.ics", "link/season-01.ics", "link.ics",
               ".hidden.ics", "notes.txt", "show-0/../user.ics", "..ics"]
    os.symlink(f"{outside}/victim.ics", f"{site}/link.ics")
    index = json.loads(read(f"{site}/index.json"))
    index["feeds"] += [{"name": "x", "show": "X", "path": h} for h in hostile]
    with open(f"{site}/index.json", "w") as f:
        json.dump(index, f, indent=1)
    write(f"{site}/.epcal-feeds", "".join(h + "\n" for h in hostile) +
          "show-2/season-01.ics\n")
    p = run("generate", "-v", "--split", "season", "--output-dir", site,
            "--prune", csv)
    assert b"1 pruned" in p.stderr, p.stderr
    assert not os.path.exists(f"{site}/show-2")
    for f in ("victim.ics", "season-01.ics"):
        assert read(f"{outside}/{f}") == b"outside\n", f
    assert read(f"{site}/user.ics") == b"user\n"
    assert read(f"{site}/mine/season-01.ics") == b"user\n"
    assert os.path.islink(f"{site}/link") and os.path.islink(f"{site}/link.ics")
    assert not os.path.exists(f"{site}/.epcal-feeds")
    index = json.loads(read(f"{site}/index.json"))
    assert "kept" not in index
    assert sorted(f["path"] for f in index["feeds"]) == \
        ["show-0/season-01.ics", "show-1/season-01.ics"]


def test_split_leaves_no_hidden_record(d):
    """The record of feeds to prune is index.json itself ("kept" lists the
    feeds an earlier run wrote and this one did not): no .epcal-feeds or
    other hidden file in the published tree, after success or failure, and
    a later --prune still removes what runs without it kept."""
    site = f"{d}/site"
    three = split_input(f"{d}/three.csv", 3)
    one = split_input(f"{d}/one.csv", 1)
    run("generate", "--split", "season", "--output-dir", site, three)
    assert not litter(site), litter(site)
    run("generate", "--split", "season", "--output-dir", site, one)
    assert not litter(site), litter(site)
    index = json.loads(read(f"{site}/index.json"))
    assert index["kept"] == [{"show": "Show 1", "path": "show-1/season-01.ics"},
                             {"show": "Show 2", "path": "show-2/season-01.ics"}]
    # Another run without --prune keeps remembering them.
    run("generate", "--split", "season", "--output-dir", site, one)
    assert json.loads(read(f"{site}/index.json"))["kept"] == index["kept"]
    bad = split_input(f"{d}/bad.csv", 2, prefix="Bad")
    with open(bad, "a") as f:
        f.write("Bad 0,1,2,never,Broken,\n")
    run("generate", "--split", "season", "--output-dir", site, bad,
        check_code=1)
    assert not litter(site), litter(site)
    p = run("generate", "-v", "--split", "season", "--output-dir", site,
            "--prune", one)
    assert b"2 pruned" in p.stderr, p.stderr
    files, dirs = tree(site)
    assert sorted(f for f in files if not f.endswith(".lock")) == \
        ["index.html", "index.json", "show-0/season-01.ics"], files.keys()
    assert dirs == ["show-0"], dirs
    assert "kept" not in json.loads(read(f"{site}/index.json"))


def test_split_selection_that_matches_nothing_publishes_nothing(d):
    """--show or --season naming what the input does not hold is an error
    for split output too: exit 1, and every feed and index is left as the
    last run wrote it."""
    csv, out = f"{d}/in.csv", f"{d}/site"
    write(csv, HEADER + rows(3, season=1) + rows(2, season=2))
    run("generate", "--split", "season", "--output-dir", out, csv)
    before = {f: read(f"{out}/{f}") for f in
              ("index.json", "index.html", "show/season-01.ics",
               "show/season-02.ics")}
    p = run("generate", "--split", "season", "--output-dir", out,
            "--show", "Shwo", csv, check_code=1)
    assert p.stderr == (b'epcal: no show in the input is named "Shwo" (did '
                        b'you mean "Show"?); it has 1 show: "Show"\n'), p.stderr
    p = run("generate", "--split", "show", "--output-dir", out,
            "--season", "3", csv, check_code=1)
    assert p.stderr == (b"epcal: no episode in the input is in season 3 "
                        b"(the input's seasons: 1-2)\n"), p.stderr
    for f, data in before.items():
        assert read(f"{out}/{f}") == data, f"{f} changed"
    assert not os.path.exists(f"{out}/show.ics")


def main():
    global EPCAL
    EPCAL = os.path.abspath(sys.argv[1])
    wanted = sys.argv[2:]
    tests = [(n, f) for n, f in globals().items()
             if n.startswith("test_") and (not wanted or n in wanted)]
    failed = 0
    for name, fn in tests:
        d = tempfile.mkdtemp(prefix="epcal-publish-")
        try:
            fn(d)
            print(f"ok: {name}")
        except Exception as e:  # report every failure, then fail
            failed += 1
            print(f"FAIL: {name}: {type(e).__name__}: {e}")
        finally:
            subprocess.run(["umount", "-q", f"{d}/small"],
                           capture_output=True)
            subprocess.run(["umount", "-q", f"{d}/ro"], capture_output=True)
            shutil.rmtree(d, ignore_errors=True)
    for s in SKIPPED:
        print(f"skipped: {s}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
