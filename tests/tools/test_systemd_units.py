#!/usr/bin/python3
"""The systemd units in contrib/systemd do what they say.

- the service is a hardened oneshot: ProtectSystem=strict, and
  ReadWritePaths= names exactly the directories its `-o` files go to;
- the timer starts it hourly;
- every ExecStart= line names the installed command by the configured
  bindir, and, with its paths moved into a scratch directory, runs with
  the built epcal, exits 0, and writes a feed `epcal check` judges clean;
- the crontab line names it by its full path too (cron's PATH is
  /usr/bin:/bin) and runs the same way;
- `systemd-analyze verify` accepts both units, when it is installed.

Usage: test_systemd_units.py EPCAL SOURCE_DIR CONFIGURED_CONTRIB_DIR BINDIR
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def directives(path):
    """[(key, value)] of a unit file, in order (repeated keys kept)."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")) and "=" in line:
                k, v = line.split("=", 1)
                out.append((k.strip(), v.strip()))
    return out


def main():
    epcal, src, configured, bindir = sys.argv[1:5]
    installed = os.path.join(bindir, "epcal")
    unit_dir = os.path.join(src, "contrib", "systemd")
    service_path = os.path.join(configured, "systemd", "epcal-feeds.service")
    service = directives(service_path)
    timer = directives(os.path.join(unit_dir, "epcal-feeds.timer"))
    sv = dict(service)
    check(sv.get("Type") == "oneshot", "service is not Type=oneshot")
    check(sv.get("ProtectSystem") == "strict", "no ProtectSystem=strict")
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp",
                "PrivateNetwork"):
        check(sv.get(key) == "yes", f"no {key}=yes")
    check(dict(timer).get("OnCalendar") == "hourly", "timer is not hourly")
    check(("WantedBy", "timers.target") in timer, "timer is not installable")

    execs = [shlex.split(v) for k, v in service if k == "ExecStart"]
    with open(os.path.join(configured, "cron", "epcal-feeds.crontab")) as f:
        cron = [shlex.split(l)[5:] for l in f
                if l.strip() and not l.startswith("#")]
    check(len(cron) == 1 and cron[0][:1] == [installed],
          f"the crontab line does not run {installed}: {cron}")
    check(len(execs) >= 1, "no ExecStart=")
    rw = set(sv.get("ReadWritePaths", "").split())
    outputs = []
    for argv in execs:
        check(argv[:2] == [installed, "generate"],
              f"ExecStart is not epcal generate: {argv}")
        check("-o" in argv, f"ExecStart without -o: {argv}")
        if "-o" in argv:
            out = argv[argv.index("-o") + 1]
            outputs.append(out)
            check(os.path.dirname(out) in rw,
                  f"{out} is outside ReadWritePaths= {sorted(rw)}")
    check(rw == {os.path.dirname(o) for o in outputs},
          f"ReadWritePaths= {sorted(rw)} allows more than the feeds need")

    # Run each line with its paths moved into a scratch directory.
    tmp = tempfile.mkdtemp(prefix="epcal-units-")
    try:
        sample = os.path.join(src, "data", "sample-shows.csv")
        for argv in execs + cron:
            moved = []
            for a in argv:
                if a == installed:
                    a = epcal
                elif a.startswith("/"):
                    a = tmp + a
                    os.makedirs(os.path.dirname(a), exist_ok=True)
                    if a.endswith(".csv"):
                        shutil.copy(sample, a)
                moved.append(a)
            p = subprocess.run(moved, capture_output=True, text=True,
                               env=dict(os.environ, SOURCE_DATE_EPOCH="0"))
            check(p.returncode == 0, f"{argv} exited {p.returncode}: {p.stderr}")
            feed = moved[moved.index("-o") + 1]
            p = subprocess.run([epcal, "check", feed], capture_output=True,
                               text=True)
            check(p.returncode == 0, f"feed of {argv} is not clean: {p.stdout}")
    finally:
        shutil.rmtree(tmp)

    analyze = shutil.which("systemd-analyze")
    if analyze:
        # --man=no: the man pages are not installed where it looks; the
        # binary is not at /usr/bin here, so that complaint is expected.
        p = subprocess.run([analyze, "verify", "--man=no",
                            service_path,
                            os.path.join(unit_dir, "epcal-feeds.timer")],
                           capture_output=True, text=True)
        noise = [l for l in (p.stdout + p.stderr).splitlines()
                 if l and f"{installed} is not executable" not in l]
        check(noise == [], "systemd-analyze verify: " + "\n".join(noise))

    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("ok: systemd units")


if __name__ == "__main__":
    main()
