"""Reduces kosoku's Autobahn report to the committed verdicts, and compares two of them.

    report.py reduce REPORT_DIR AGENT OUT      index.json -> {case id: verdicts}, stable
    report.py summary VERDICTS                 counts of each verdict
    report.py compare EXPECTED FRESH REPORT_DIR
        prints the summary; on a difference, a unified diff and what each changed case
        tests and saw (from the per-case reports), and exits 1

Only `behavior` and `behaviorClose` are kept: durations, timestamps and wire logs vary from
run to run and stay in the full report (REPORT_DIR/index.html).
"""

from __future__ import annotations

import collections
import difflib
import json
import os
import sys

BEHAVIORS = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED", "ERROR"]


def case_key(case_id: str) -> list[int]:
    return [int(p) for p in case_id.split(".")]


def render(verdicts: dict[str, dict[str, str]]) -> str:
    """One case a line, in case order, so a diff names the cases that changed."""
    lines = [
        f"  {json.dumps(case)}: "
        + json.dumps(
            {"behavior": v["behavior"], "behaviorClose": v["behaviorClose"]},
            separators=(", ", ": "),
        )
        for case, v in sorted(verdicts.items(), key=lambda kv: case_key(kv[0]))
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def reduce(report_dir: str, agent: str, out: str) -> int:
    path = os.path.join(report_dir, "index.json")
    try:
        with open(path) as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        print(f"conformance: no usable report at {path}: {e}", file=sys.stderr)
        return 1
    if agent not in index:
        print(
            f"conformance: the report has no agent {agent!r} (it has {sorted(index)})",
            file=sys.stderr,
        )
        return 1
    verdicts = {
        case: {"behavior": v["behavior"], "behaviorClose": v["behaviorClose"]}
        for case, v in index[agent].items()
    }
    with open(out, "w") as f:
        f.write(render(verdicts))
    return 0


def summary(verdicts: dict[str, dict[str, str]]) -> str:
    behavior = collections.Counter(v["behavior"] for v in verdicts.values())
    close = collections.Counter(v["behaviorClose"] for v in verdicts.values())
    order = {b: i for i, b in enumerate(BEHAVIORS)}
    b = ", ".join(
        f"{k} {n}" for k, n in sorted(behavior.items(), key=lambda kv: order.get(kv[0], 99))
    )
    c = ", ".join(f"{k} {n}" for k, n in close.most_common())
    return f"{len(verdicts)} cases; behavior: {b}; behaviorClose: {c}"


def case_report(report_dir: str, agent: str | None, case: str) -> dict | None:
    if agent is None:
        return None
    try:
        with open(os.path.join(report_dir, "index.json")) as f:
            name = json.load(f)[agent][case]["reportfile"]
        with open(os.path.join(report_dir, name)) as f:
            return json.load(f)
    except (OSError, ValueError, KeyError):
        return None


def compare(expected_path: str, fresh_path: str, report_dir: str) -> int:
    with open(fresh_path) as f:
        fresh_text = f.read()
    fresh = json.loads(fresh_text)
    print(f"conformance: {summary(fresh)}")
    try:
        with open(expected_path) as f:
            expected_text = f.read()
    except FileNotFoundError:
        print(
            f"conformance: {expected_path} is missing: run tests/conformance/run.sh --update",
            file=sys.stderr,
        )
        return 1
    if expected_text == fresh_text:
        print("conformance: the verdicts match expected.json")
        return 0
    expected = json.loads(expected_text)
    out = sys.stderr
    print(
        "conformance: the verdicts differ from expected.json (- expected, + this run):",
        file=out,
    )
    out.writelines(
        difflib.unified_diff(
            expected_text.splitlines(keepends=True),
            fresh_text.splitlines(keepends=True),
            "expected.json",
            "this run",
            n=0,
        )
    )
    try:
        with open(os.path.join(report_dir, "index.json")) as f:
            agents = list(json.load(f))
        agent = agents[0] if len(agents) == 1 else None
    except (OSError, ValueError):
        agent = None
    print("\nconformance: the changed cases:", file=out)
    for case in sorted(set(expected) | set(fresh), key=case_key):
        was, now = expected.get(case), fresh.get(case)
        if was == now:
            continue
        show = lambda v: "absent" if v is None else f"{v['behavior']} / {v['behaviorClose']}"
        print(f"  {case}: expected {show(was)}, got {show(now)}", file=out)
        detail = case_report(report_dir, agent, case) if now is not None else None
        if detail:
            print(f"      case:   {detail.get('description', '')}", file=out)
            print(f"      result: {detail.get('result', '')}", file=out)
            print(f"      close:  {detail.get('resultClose', '')}", file=out)
    print(
        f"\nconformance: the full report is {os.path.join(report_dir, 'index.html')}; if the "
        "change is intended, run tests/conformance/run.sh --update and commit expected.json",
        file=out,
    )
    return 1


def main(argv: list[str]) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    if len(argv) == 2 and argv[0] == "summary":
        with open(argv[1]) as f:
            print(f"conformance: {summary(json.load(f))}")
        return 0
    if len(argv) == 4 and argv[0] == "reduce":
        return reduce(*argv[1:])
    if len(argv) == 4 and argv[0] == "compare":
        return compare(*argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
