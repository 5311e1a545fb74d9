#!/usr/bin/python3
"""The command explains itself, and its documentation agrees with it.

Usage: test_cli_docs.py PART EPCAL SOURCE_DIR VERSION
  help        epcal --help / --version / COMMAND --help, usage errors, and
              suggestions for mistyped commands and options
  man         the man pages render without warnings and document every
              command, option and exit code the binary has
  completion  the bash completion offers every command and option
Commands and options are taken from the binary's own --help, so a new
option that is not documented everywhere fails here.
"""
import os
import re
import shutil
import subprocess
import sys

failures = []

# What each command must at least offer (its --help may offer more).
REQUIRED = {
    "generate": ["-o", "--output", "--calendar-name", "--show", "--season",
                 "--delimiter", "--date-format", "--skip-invalid", "-v",
                 "--verbose", "-h", "--help"],
    "list": ["--format", "--show", "--season", "--delimiter",
             "--date-format", "--skip-invalid", "-h", "--help"],
    "check": ["-q", "--quiet", "-v", "--verbose", "-h", "--help"],
}


def check(cond, msg):
    if not cond:
        failures.append(msg)


def run(epcal, *args, stdin=b""):
    p = subprocess.run([epcal, *args], input=stdin, capture_output=True,
                       timeout=60, env=dict(os.environ, LC_ALL="C.UTF-8"))
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def commands(epcal):
    code, out, err = run(epcal, "--help")
    section = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in section.splitlines() if line.strip()]


def options_in(text):
    longs = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*[a-z])", text))
    shorts = set(re.findall(r"(?<![\w-])(-[a-zA-Z])(?=[ ,])", text))
    return longs | shorts


def part_help(epcal, version):
    code, out, err = run(epcal, "--help")
    check(code == 0 and err == "" and "Usage: epcal" in out,
          f"epcal --help: exit {code}, stderr {err!r}")
    cmds = commands(epcal)
    check(set(REQUIRED) <= set(cmds), f"commands in --help: {cmds}")
    for word in ("0", "1", "2", "3", "4", "5"):
        check(f"{word} " in out.split("Exit status:")[1],
              f"epcal --help does not explain exit status {word}")

    code, out, err = run(epcal)
    check(code == 2 and out == "" and "Usage: epcal" in err,
          f"epcal without a command: exit {code}")

    code, out, err = run(epcal, "--version")
    check(code == 0 and re.fullmatch(
        r"epcal " + re.escape(version) + r"( \(git [0-9A-Za-z._+-]+\))?\n",
        out) is not None, f"--version printed {out!r}")

    for cmd in cmds:
        code, out, err = run(epcal, cmd, "--help")
        check(code == 0 and err == "" and out.startswith(f"Usage: epcal {cmd}"),
              f"epcal {cmd} --help: exit {code}, stderr {err!r}")
        offered = options_in(out)
        for opt in REQUIRED.get(cmd, []):
            check(opt in offered, f"epcal {cmd} --help does not mention {opt}")
        check("Exit status:" in out, f"epcal {cmd} --help: no exit status")
        # Every option the help offers exists (it may lack its value).
        for opt in sorted(o for o in offered if o.startswith("--")):
            c, o, e = run(epcal, cmd, opt)
            check("unknown option" not in e,
                  f"epcal {cmd} --help offers {opt}, which is unknown")
        c, o, e = run(epcal, cmd, "--no-such-option")
        check(c == 2 and o == "" and f"Try 'epcal {cmd} --help'." in e,
              f"epcal {cmd} --no-such-option: exit {c}, stderr {e!r}")
        # One prefix for every message, whichever command prints it.
        check(e.startswith("epcal: "), f"epcal {cmd}: message {e!r}")

    part_vocabulary(epcal)

    c, o, e = run(epcal, "generat")
    check(c == 2 and "did you mean 'generate'?" in e,
          f"mistyped command: exit {c}, stderr {e!r}")
    c, o, e = run(epcal, "frobnicate")
    check(c == 2 and "unknown command 'frobnicate'" in e and
          "did you mean" not in e, f"unknown command: exit {c}, {e!r}")
    c, o, e = run(epcal, "--verison")
    check(c == 2 and "did you mean '--version'?" in e,
          f"mistyped option: exit {c}, stderr {e!r}")
    c, o, e = run(epcal, "list", "--fromat", "csv")
    check(c == 2 and "did you mean '--format'?" in e,
          f"mistyped list option: exit {c}, stderr {e!r}")


def option_help(text):
    """{option: its help line(s), whitespace collapsed} from a --help."""
    found = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"  (?:-\w, )?(--[a-z-]+)(?: (\S+))?(?:  +(.*))?$", line) \
            or re.match(r"      (--[a-z-]+)(?: (\S+))?(?:  +(.*))?$", line)
        if m:
            current = m.group(1)
            found[current] = [m.group(2) or "", m.group(3) or ""]
        elif current and line.startswith(" " * 27):
            found[current][1] += " " + line.strip()
        else:
            current = None
    return {k: (v[0], " ".join(v[1].split())) for k, v in found.items()}


# What every command that reads CSV takes, so that the same input is read
# the same way by each.
CSV_READERS = ("generate", "list", "serve")
INPUT_OPTIONS = ("--delimiter", "--date-format", "--encoding",
                 "--skip-invalid", "--show", "--season")


def part_vocabulary(epcal):
    """The same option has the same value and help line in every command
    (they come from one table), every CSV reader takes every input option,
    and durations are accepted as RFC 5545 and as seconds."""
    helps = {cmd: option_help(run(epcal, cmd, "--help")[1])
             for cmd in CSV_READERS}
    seen = {}
    for cmd, opts in helps.items():
        for opt, text in opts.items():
            if opt in seen:
                check(seen[opt][1] == text,
                      f"{opt}: {seen[opt][0]} says {seen[opt][1]!r}, "
                      f"{cmd} says {text!r}")
            else:
                seen[opt] = (cmd, text)
        for opt in INPUT_OPTIONS:
            check(opt in opts, f"epcal {cmd} lacks {opt}")
    for opt in ("--from", "--to", "--past-days", "--future-days",
                "--premieres-only", "--finales-only", "--no-specials"):
        check(opt in helps["list"] and opt in helps["generate"],
              f"list and generate must both take {opt}")
    csv = b"show,season,episode,air_date\nA,1,1,2024-01-15\n"
    feeds = set()
    for refresh in ("PT6H", "21600"):
        c, o, e = run(epcal, "generate", "--refresh", refresh, "--wait",
                      "PT1S" if refresh == "PT6H" else "1", "--alarm",
                      "-PT30M" if refresh == "PT6H" else "-1800",
                      stdin=csv)
        check(c == 0 and "REFRESH-INTERVAL;VALUE=DURATION:PT6H\r\n" in o and
              "TRIGGER:-PT30M\r\n" in o, f"--refresh {refresh}: {c} {e!r}")
        feeds.add(re.sub(r"DTSTAMP:\S+", "", o))
    check(len(feeds) == 1, "a duration as RFC 5545 or as seconds differs")


def man_text(src, page):
    with open(os.path.join(src, "doc", page), encoding="utf-8") as f:
        return f.read()


def part_man(epcal, src, version):
    for name in ("epcal.1", "epcal-csv.5"):
        th = [l for l in man_text(src, name).splitlines()
              if l.startswith(".TH ")]
        check(len(th) == 1 and f'"epcal {version}"' in th[0],
              f"{name}: .TH does not name epcal {version}: {th}")
    groff = shutil.which("groff")
    check(groff is not None, "groff is not installed (groff-base)")
    for page in ("epcal.1", "epcal-csv.5"):
        if groff:
            p = subprocess.run([groff, "-man", "-ww", "-z",
                                os.path.join(src, "doc", page)],
                               capture_output=True)
            check(p.returncode == 0 and p.stderr == b"" and p.stdout == b"",
                  f"groff warns about {page}: {p.stderr.decode()}")
    # Roff writes a hyphen as \-; read the page as a person would.
    page = man_text(src, "epcal.1").replace("\\-", "-")
    for cmd in commands(epcal):
        check(f'.SS "epcal {cmd}"' in page, f"epcal.1 has no section for {cmd}")
        section = page.split(f'.SS "epcal {cmd}"', 1)[-1].split("\n.SS", 1)[0]
        if f"epcal {cmd} --help" in section:
            continue  # the page defers to the command's own help
        _, out, _ = run(epcal, cmd, "--help")
        for opt in options_in(out):
            check(re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])",
                            page) is not None,
                  f"epcal.1 does not document {cmd} {opt}")
    exit_section = page.split(".SH EXIT STATUS", 1)[1].split(".SH", 1)[0]
    synopsis = page.split(".SH SYNOPSIS", 1)[1].split(".SH", 1)[0]
    for cmd in commands(epcal):
        check(f".B {cmd}\n" in synopsis, f"epcal.1 SYNOPSIS lacks {cmd}")
    for code in range(6):
        check(f".B {code}\n" in exit_section,
              f"epcal.1 does not explain exit status {code}")
    check(".SH EXAMPLES" in page, "epcal.1 has no examples")

    # The sample in epcal-csv(5) is real input.
    csv_page = man_text(src, "epcal-csv.5")
    sample = csv_page.split(".SH EXAMPLES", 1)[1].split(".EX\n", 1)[1]
    sample = sample.split(".EE", 1)[0].replace("\\-", "-")
    c, o, e = run(epcal, "list", "--format", "csv", "-",
                  stdin=sample.encode())
    check(c == 0 and len(o.splitlines()) == 1 + 3,
          f"epcal-csv(5) sample: exit {c}, {e!r}, {o!r}")


def complete(src, line):
    """What the completion offers for `line` (completing its last word)."""
    script = os.path.join(src, "contrib", "completion", "epcal.bash")
    words = line.split(" ")
    prog = (f"source {script!r}; COMP_WORDS=({' '.join(repr(w) for w in words)}); "
            f"COMP_CWORD={len(words) - 1}; _epcal; "
            "printf '%s\\n' \"${COMPREPLY[@]}\"")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog],
                       capture_output=True, text=True, cwd=src)
    check(p.returncode == 0 and p.stderr == "",
          f"completion of {line!r} failed: {p.stderr}")
    return [w for w in p.stdout.splitlines() if w]


def part_completion(epcal, src):
    cmds = commands(epcal)
    check(sorted(complete(src, "epcal ")) ==
          sorted(cmds + ["--help", "--version"]),
          f"commands offered: {complete(src, 'epcal ')}")
    check(complete(src, "epcal ge") == ["generate"], "epcal ge<TAB>")
    for cmd in cmds:
        _, out, _ = run(epcal, cmd, "--help")
        offered = set(complete(src, f"epcal {cmd} -"))
        for opt in options_in(out):
            check(opt in offered,
                  f"completion of 'epcal {cmd} -' lacks {opt}: {sorted(offered)}")
    check(complete(src, "epcal list --fo") == ["--format"], "list --fo<TAB>")
    check(sorted(complete(src, "epcal list --format ")) ==
          ["csv", "json", "table"], "list --format <TAB>")
    check("tab" in complete(src, "epcal generate --delimiter t"),
          "--delimiter t<TAB>")
    check(complete(src, "epcal --ver") == ["--version"], "epcal --ver<TAB>")
    # File arguments: CSV for the readers, feeds for check.
    csvs = complete(src, "epcal generate data/")
    check(any(f.endswith(".csv") for f in csvs) and
          not any(f.endswith(".ics") for f in csvs), f"csv files: {csvs}")


def main():
    part, epcal, src, version = sys.argv[1:5]
    {"help": lambda: part_help(epcal, version),
     "man": lambda: part_man(epcal, src, version),
     "completion": lambda: part_completion(epcal, src)}[part]()
    if failures:
        print("FAIL:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"ok: {part}")


if __name__ == "__main__":
    main()
