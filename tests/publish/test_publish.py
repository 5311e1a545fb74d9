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
                assert not f.startswith(".") or f.endswith(".lock"), \
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
    if caught == 0:
        SKIPPED.append("split kill -9: every run ended before it was caught")
        return
    assert litter(out), "the killed runs left no temporary file"
    run("generate", "--split", "season", "--output-dir", out, small)
    assert not litter(out), f"left after a clean run: {litter(out)[:10]}"
    files, dirs = tree(out)
    assert {f: b for f, b in files.items() if not f.endswith(".lock")} == \
        {f: b for f, b in want[0].items() if not f.endswith(".lock")}
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
