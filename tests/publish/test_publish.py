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
    left = [f for f in os.listdir(d)
            if f.startswith("." + name + ".") and not f.endswith(".lock")]
    assert not left, f"temporary files left behind: {left}"


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
            if (f.startswith("." + name + ".") and not f.endswith(".lock")
                    and f not in old):
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
                assert (not f.startswith(".") or f.endswith(".lock") or
                        f == ".epcal-feeds"), f"temporary file left: {path}"
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
