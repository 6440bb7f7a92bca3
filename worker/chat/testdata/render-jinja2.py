"""render-jinja2.py: renders chat templates with Python's Jinja2, configured as Hugging Face
transformers renders chat templates, for the Go tests (thin: the cases and the comparisons
live in Go).

Usage: python3 render-jinja2.py < cases.json > results.json
Input: a JSON array of {"template": "<jinja source>", "vars": {...}}; output: a JSON array,
one {"out": "..."} or {"error": "..."} per case, in order.
"""
import json
import sys
from datetime import datetime

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.now().strftime(fmt)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

compiled = {}
results = []
for case in json.load(sys.stdin):
    try:
        src = case["template"]
        if src not in compiled:
            compiled[src] = env.from_string(src)
        results.append({"out": compiled[src].render(**case["vars"])})
    except Exception as e:  # a template's raise_exception, or any rendering failure
        results.append({"error": f"{type(e).__name__}: {e}"})
json.dump(results, sys.stdout, ensure_ascii=False)
