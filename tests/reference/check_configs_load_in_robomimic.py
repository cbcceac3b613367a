"""Loads JSON configs into robomimic exactly as robomimic 0.3.0's scripts/train.py does (main(),
lines 333-339, then config.lock() at line 372) and prints OK or the exception for each file:
the check that what mimic writes (`mimic generate-configs --output_dir DIR`, a run folder's
config.json) is a config robomimic accepts.

    /work/venv/bin/python tests/reference/check_configs_load_in_robomimic.py DIR_OR_FILE... \
        [--robomimic-src /tmp/robomimic_v05_src]   # check against v0.5 instead (see make_robomimic_config_fixtures.py)

Folders are searched recursively for *.json. A file whose algo_name robomimic does not have
(mimic's ibc; diffusion_policy before v0.5) is SKIP, not FAIL: robomimic cannot judge it (use
--strict to count it as FAIL). Exit status 1 if any file FAILs. robomimic checks no types,
so WARN lists values whose JSON type differs from robomimic's non-null default: robomimic would
accept them, but its training code would probably not.
"""
import argparse
import json
import os
import sys


def type_of(v):
    return "number" if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__


def type_mismatches(default, given, prefix=""):
    out = []
    for k, v in given.items():
        if k not in default or default[k] is None or v is None:
            continue
        d = default[k]
        if isinstance(d, dict) and isinstance(v, dict):
            out += type_mismatches(d, v, prefix + k + ".")
        elif type_of(d) != type_of(v) and {type_of(d), type_of(v)} != {"list", "tuple"}:
            out.append("%s%s: %s, default %s" % (prefix, k, type_of(v), type_of(d)))
    return out


def refused_paths(node, given, prefix=""):
    """Dotted paths of the keys robomimic refuses (its message names only the last key)."""
    out = []
    for k, v in given.items():
        if k not in node:
            if getattr(node, "is_key_locked", False):
                out.append(prefix + k)
        elif isinstance(node[k], dict) and isinstance(v, dict):
            out += refused_paths(node[k], v, prefix + k + ".")
    return out


def check(path, config_factory, registered, strict):
    try:
        with open(path, "r") as f:
            ext_cfg = json.load(f)                        # train.py: json.load(open(args.config, 'r'))
        if ext_cfg.get("algo_name") not in registered and "algo_name" in ext_cfg and not strict:
            return "SKIP", "algo_name %r is not registered in this robomimic" % ext_cfg["algo_name"]
        config = config_factory(ext_cfg["algo_name"])    # train.py
        with config.values_unlocked():                   # train.py: unknown keys raise here
            config.update(ext_cfg)
        config.lock()                                    # train.py, before train()
    except Exception as e:
        msg = "%s: %s" % (type(e).__name__, e)
        if isinstance(e, RuntimeError):
            config = config_factory(ext_cfg["algo_name"])
            with config.values_unlocked():
                msg += " [refused: %s]" % ", ".join(refused_paths(config, ext_cfg))
        return "FAIL", msg
    warn = type_mismatches(json.loads(config_factory(ext_cfg["algo_name"]).dump()), ext_cfg)
    return ("WARN", "; ".join(warn)) if warn else ("OK", "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--robomimic-src", help="folder holding another robomimic package (e.g. v0.5)")
    ap.add_argument("--strict", action="store_true", help="unregistered algo_name is a FAIL")
    args = ap.parse_args()
    if args.robomimic_src:
        sys.path.insert(0, args.robomimic_src)
    import robomimic
    from robomimic.config import config_factory, get_all_registered_configs
    registered = set(get_all_registered_configs())
    print("robomimic %s (%s), algorithms: %s" % (robomimic.__version__, os.path.dirname(robomimic.__file__),
                                                 ", ".join(sorted(registered))))
    files = []
    for p in args.paths:
        if os.path.isdir(p):
            files += [os.path.join(r, f) for r, _, fs in os.walk(p) for f in fs if f.endswith(".json")]
        else:
            files.append(p)
    counts = {}
    for path in sorted(files):
        status, msg = check(path, config_factory, registered, args.strict)
        counts[status] = counts.get(status, 0) + 1
        print("%-4s %s%s" % (status, path, "  " + msg if msg else ""))
    print(", ".join("%d %s" % (n, s) for s, n in sorted(counts.items())))
    sys.exit(1 if counts.get("FAIL") else 0)


if __name__ == "__main__":
    main()
