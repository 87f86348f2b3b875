#!/usr/bin/python3
"""Writes tests/cron/vectors.tsv: the next fire times of cron expressions, as computed by two
independent engines, for test_cron.cpp: croniter (Debian's python3-croniter) and systemd's
calendar arithmetic (`systemd-analyze calendar`), each given the expression's fields as it
expands them.

Run by hand when the expressions below change; the output is committed as data, so the tests
need neither. The day rule is Vixie cron's (and cronie's): the two day fields are OR-ed only
when both are restricted; when either starts with '*', both filter. croniter implements both
behaviours (day_or=True / False) and this script picks the one that rule names; for systemd,
one OnCalendar= expression ANDs weekday and date, and an OR is the union of two.

Where the engines disagree the script says so on stderr and keeps systemd's answer: croniter
1.3.5 skips March 1 after February 28 of a leap year for day steps (`*/3`, `*/5`).
All times are UTC. Each line: EXPR, FROM, then five fire times strictly after FROM.
"""
import subprocess
import sys
from datetime import datetime, timezone

from croniter import croniter

EXPRESSIONS = [
    # minutes and hours: steps, ranges, lists
    "* * * * *", "*/15 * * * *", "5/10 * * * *", "1-10/3 * * * *", "0,30 * * * *", "7 */2 * * *",
    "0 9-17 * * *", "15 1,13 * * *", "0 8-20/4 * * *", "59 23 * * *",
    # day of month alone: steps from '*', ranges, lists, the 31st
    "0 0 */2 * *", "0 0 */3 * *", "0 0 2-30/7 * *", "0 0 1,15 * *", "0 0 31 * *", "0 0 29 2 *",
    "0 12 10-12 * *",
    # month: names, ranges, steps
    "0 0 1 */3 *", "0 0 1 jan-mar *", "0 6 15 Jun,Dec *", "30 2 * 2 *",
    # day of week alone: names, 0 and 7, ranges, steps
    "0 3 * * sun", "0 3 * * 7", "0 3 * * 0", "0 0 * * mon-fri", "0 0 * * */2", "0 0 * * 1-5/2",
    "0 0 * * sat,sun", "0 12 * Dec Fri",
    # both day fields: restricted (OR) and star-led (AND), steps, ranges, lists on either side
    "0 0 */2 * mon", "0 0 1,15 * mon", "0 0 1-7 * */2", "0 0 13 * fri", "0 0 */5 * 1-5",
    "0 0 1-7 * mon", "0 0 */2 * */3", "0 0 10-20 * sat,sun", "0 0 1 * 0", "0 6 28-31 * fri",
    "0 0 29 2 1",
    # seconds first (6 fields)
    "30 0 2 * * *", "*/20 * * * * *", "0 0 0 */2 * mon",
    # macros
    "@daily", "@weekly", "@monthly", "@yearly", "@hourly",
]

FROMS = ["2026-01-01T00:00:00", "2026-02-27T13:45:10", "2027-12-30T23:59:59", "2028-02-28T12:00:00"]

MACROS = {"@daily": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *",
          "@yearly": "0 0 1 1 *", "@hourly": "0 * * * *"}


def croniter_form(expr):
    """croniter's field order: a seconds field goes last."""
    expr = MACROS.get(expr, expr)
    fields = expr.split()
    if len(fields) == 6:
        fields = fields[1:] + fields[:1]
    return " ".join(fields), fields


DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]


def listed(values, width):
    return "*" if values == ["*"] else ",".join(f"{v:0{width}d}" for v in values)


def systemd_times(form, day_or, start):
    """The first five fire times after START by systemd-analyze calendar."""
    fields = croniter(form).expanded
    seconds = listed(fields[5], 2) if len(fields) == 6 else "00"
    time = f"{listed(fields[1], 2)}:{listed(fields[0], 2)}:{seconds}"
    months = listed(fields[3], 2)
    weekdays = "" if fields[4] == ["*"] else ",".join(DAYS[v % 7] for v in fields[4]) + " "
    days = listed(fields[2], 2)
    if day_or:
        specs = [f"{weekdays}*-{months}-* {time}", f"*-{months}-{days} {time}"]
    else:
        specs = [f"{weekdays}*-{months}-{days} {time}"]
    found = set()
    for spec in specs:
        out = subprocess.run(["systemd-analyze", "calendar", "--iterations=5",
                              "--base-time=" + start.replace("T", " ") + " UTC", spec + " UTC"],
                             check=True, capture_output=True, text=True, env={"TZ": "UTC"}).stdout
        for line in out.splitlines():
            line = line.strip()
            if line.startswith(("Next elapse:", "Iter. #")):
                stamp = " ".join(line.split(":", 1)[1].split()[1:3])
                found.add(stamp.replace(" ", "T") + "+00:00")
    return sorted(found)[:5]


def main():
    out = []
    for expr in EXPRESSIONS:
        form, fields = croniter_form(expr)
        day_or = not (fields[2].startswith("*") or fields[4].startswith("*"))
        for start in FROMS:
            base = datetime.fromisoformat(start).replace(tzinfo=timezone.utc)
            it = croniter(form, base, day_or=day_or)
            times = [it.get_next(datetime).strftime("%Y-%m-%dT%H:%M:%S+00:00") for _ in range(5)]
            other = systemd_times(form, day_or, start)
            if other != times:
                sys.stderr.write(f"engines disagree on '{expr}' after {start}: croniter {times}, "
                                 f"systemd {other}; keeping systemd's\n")
                times = other
            out.append("\t".join([expr, start + "+00:00"] + times))
    sys.stdout.write("# Generated by make_vectors.py with croniter; do not edit.\n")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
