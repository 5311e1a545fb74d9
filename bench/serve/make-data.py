#!/usr/bin/python3
"""Writes a synthetic episode CSV: SHOWS shows x SEASONS seasons x EPISODES
episodes, weekly from 2020-01-06. Usage: make-data.py OUT.csv [SHOWS
SEASONS EPISODES]"""
import datetime
import sys

out = sys.argv[1]
shows, seasons, episodes = (int(x) for x in (sys.argv[2:5] or (50, 5, 10)))
start = datetime.date(2020, 1, 6)
with open(out, "w", encoding="utf-8") as f:
    f.write("show,season,episode,title,air_date,network,description\n")
    for s in range(1, shows + 1):
        for se in range(1, seasons + 1):
            for e in range(1, episodes + 1):
                d = start + datetime.timedelta(weeks=(se - 1) * 52 + e - 1,
                                               days=s % 7)
                f.write(f"Show {s:02d},{se},{e},Episode {e} of season {se},"
                        f"{d.isoformat()},Network {s % 5},\"A description "
                        f"of episode {e}, long enough to be folded once or "
                        f"twice in the feed.\"\n")
