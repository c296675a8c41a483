"""Run the benchmarks: ``python bench/run.py [NAME...]``.

Discovers ``bench/bench_*.py``; each module exposes ``BENCHES = {"metric.name": fn}`` where
``fn()`` returns a float (the value), ``(value, unit)``, or ``(value, unit, detail)`` with
``detail`` a JSON-able dict of supporting figures; and optionally ``BUDGETS = {"metric.name":
(op, limit)}`` with op one of ``<= >= < > ==``. A NAME selects one metric exactly or every metric
starting with it (``sync.`` selects the sync ones). Prints one JSON object per line:
``{"name", "value", "unit", "budget", "ok"}`` (plus ``detail`` when given). A module that cannot
be imported (say an optional dependency is missing) prints one error line and the others run.
Exit status: 0 when every selected metric ran and met its budget, 1 otherwise.
"""
from __future__ import annotations

import importlib.util
import json
import operator
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq}


def _emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


def _selected(name: str, wanted: list[str]) -> bool:
    return not wanted or any(name == w or name.startswith(w) for w in wanted)


def _area_wanted(area: str, wanted: list[str]) -> bool:
    """Whether a module that failed to import may have held a selected metric (bench_sync.py
    holds ``sync.*`` by convention), so its error line is shown only when it could matter."""
    return not wanted or any(w.split(".", 1)[0] == area or area.startswith(w) for w in wanted)


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"bench_modules.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _normalise(out) -> tuple[float, str, dict | None]:
    if isinstance(out, tuple):
        value = out[0]
        unit = out[1] if len(out) > 1 else ""
        detail = out[2] if len(out) > 2 else None
        return float(value), str(unit), detail
    return float(out), "", None


def run(wanted: list[str]) -> int:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    failures = 0
    matched = 0
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        area = path.stem[len("bench_"):]
        try:
            module = _load(path)
            benches = dict(getattr(module, "BENCHES"))
            budgets = dict(getattr(module, "BUDGETS", {}) or {})
        except BaseException as exc:  # noqa: BLE001 - one broken module must not stop the rest
            if isinstance(exc, KeyboardInterrupt):
                raise
            if _area_wanted(area, wanted):
                failures += 1
                _emit({"name": path.stem, "value": None, "unit": None, "budget": None, "ok": False,
                       "error": f"{type(exc).__name__}: {exc}"})
            continue
        for name, fn in benches.items():
            if not _selected(name, wanted):
                continue
            matched += 1
            budget = budgets.get(name)
            budget_text = f"{budget[0]} {budget[1]}" if budget else None
            started = time.perf_counter()
            try:
                value, unit, detail = _normalise(fn())
            except Exception as exc:  # noqa: BLE001 - report and go on with the next metric
                failures += 1
                _emit({"name": name, "value": None, "unit": None, "budget": budget_text, "ok": False,
                       "error": f"{type(exc).__name__}: {exc}",
                       "trace": traceback.format_exc(limit=4).splitlines()[-3:]})
                continue
            ok = bool(OPS[budget[0]](value, budget[1])) if budget else True
            failures += 0 if ok else 1
            line = {"name": name, "value": round(value, 4), "unit": unit, "budget": budget_text, "ok": ok}
            if detail:
                line["detail"] = detail
            line["wall_s"] = round(time.perf_counter() - started, 2)
            _emit(line)
    if wanted and not matched:
        _emit({"name": " ".join(wanted), "value": None, "unit": None, "budget": None, "ok": False,
               "error": "no benchmark matches"})
        failures += 1
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
