"""What the bench reports (report.py, sched_report.py, cc_report.py) share."""
import json
import statistics


def load(path, default=None):
    """A JSON file's content, or default when it is missing or not JSON."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def median_range(xs, nd):
    """The median of the values that are not None as text with nd decimals, with
    (min–max) when they differ, and the median itself: ("–", None) without values."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–", None
    m = statistics.median(xs)
    s = f"{m:.{nd}f}"
    if len(xs) > 1 and min(xs) != max(xs):
        s += f" ({min(xs):.{nd}f}–{max(xs):.{nd}f})"
    return s, m
