"""Writes tests/data/robomimic/{v0.3,v0.5}/ from robomimic itself, so the C++ tests (no Python)
can check that mimic reads robomimic configs and writes configs robomimic reads.

Per version: <algo>.json (json.loads(config_factory(algo).dump()) for every registered algo),
open_keys.json (where robomimic accepts new keys), templates/ (robomimic's exps/templates/*.json,
byte-for-byte: the files users start from) and source.json (exact version / commit).
v0.5/new_keys.json lists what v0.5's defaults add to (or drop from, or change in) v0.3's.

v0.3 is robomimic==0.3.0 from PyPI (installed in the running venv). v0.5 is not on PyPI
(PyPI's newest is 0.3.0), so it is read from a git mirror of ARISE-Initiative/robomimic
(the `fetch` tool's copy by default): only robomimic/__init__.py, robomimic/config/ and the
templates are extracted, which need nothing but `six`. The two versions are both called
`robomimic`, so v0.5 runs in a child process with the extracted tree first on sys.path.

    python3 -m venv /work/venv && /work/venv/bin/pip install robomimic==0.3.0 six
    /work/venv/bin/python tests/reference/make_robomimic_config_fixtures.py \
        [--v05-git-dir /work/.mirror/ARISE-Initiative+robomimic/repo] [--v05-ref master]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "data", "robomimic"))
V05_SRC = "/tmp/robomimic_v05_src"  # extracted v0.5 package; check_configs_load_in_robomimic.py can use it


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def dict_paths(d, prefix=""):
    """Dotted paths of every dict-valued node (the root is "")."""
    yield prefix
    for k, v in d.items():
        if isinstance(v, dict):
            yield from dict_paths(v, prefix + k + ".")


def node(cfg, path):
    for k in path.split(".")[:-1] if path else []:
        cfg = cfg[k]
    return cfg


def open_keys(config_factory, Config, algo):
    """Where robomimic's train.py (`with config.values_unlocked(): config.update(ext_cfg)`)
    accepts a key that the defaults lack. Found by trying it at every dict node, not by reading
    the flags, so whatever robomimic does (do_not_lock_keys stops lock_keys from descending, plain
    dicts are never locked, deepcopy drops the flag) is what gets recorded."""
    default = json.loads(config_factory(algo).dump())
    accepted, flagged, plain = [], [], []
    for p in dict_paths(default):
        cfg = config_factory(algo)
        n = node(cfg, p)
        if isinstance(n, Config) and not n.key_lockable:
            flagged.append(p[:-1])
        elif not isinstance(n, Config):
            plain.append(p[:-1])
        probe = {"__probe__": 1}
        for k in reversed(p.split(".")[:-1] if p else []):
            probe = {k: probe}
        try:
            with cfg.values_unlocked():
                cfg.update(probe)
            accepted.append(p[:-1])
        except RuntimeError:
            pass
    # open_roots: the highest accepting nodes; every node below one of them accepted too (checked)
    roots = [p for p in accepted if not any(p.startswith(r + ".") for r in accepted if r != p)]
    below = [p[:-1] for p in dict_paths(default) if any((p[:-1] + ".").startswith(r + ".") for r in roots)]
    assert sorted(below) == sorted(accepted), (algo, set(below) ^ set(accepted))
    return {"open_roots": sorted(roots), "do_not_lock_keys": sorted(flagged),
            "plain_dicts": sorted(plain), "open_nodes": sorted(accepted)}


def dump_version(out_dir, source):
    """Runs with the wanted robomimic first on sys.path."""
    import robomimic
    from robomimic.config import config_factory, get_all_registered_configs, Config
    os.makedirs(os.path.join(out_dir, "templates"), exist_ok=True)
    algos = sorted(get_all_registered_configs())
    rules = {}
    for algo in algos:
        write_json(os.path.join(out_dir, algo + ".json"), json.loads(config_factory(algo).dump()))
        rules[algo] = open_keys(config_factory, Config, algo)
    write_json(os.path.join(out_dir, "open_keys.json"), {
        "rule": "With robomimic's train.py loading (config_factory(algo_name), then "
                "`with config.values_unlocked(): config.update(ext_cfg)`), a key absent from the "
                "defaults is accepted only at or below an open_roots path (open_nodes lists every "
                "default dict node that accepts one); anywhere else: RuntimeError \"Cannot update - "
                "this config has been key-locked and key 'K' does not exist\". do_not_lock_keys: nodes "
                "robomimic marks; lock_keys() does not descend below them, so their whole subtree is "
                "open. plain_dicts: defaults that are plain Python dicts, never locked, and merged by "
                "dict.update (one level: a given sub-dict replaces the default one). A value under a "
                "new key is stored as a plain dict, so everything below it is open too. robomimic "
                "checks no types: any existing key may take any JSON value (a dict may replace a "
                "leaf and vice versa).",
        "algos": rules})
    # templates: exps/templates/ (and v0.5's config/default_templates/ in templates/default_templates/),
    # copied unchanged; each is loaded as train.py would, since one of v0.5's is refused by v0.5 itself
    pkg, loads = os.path.dirname(robomimic.__file__), {}
    for sub, dst in (("exps/templates", "templates"), ("config/default_templates", "templates/default_templates")):
        tdir = os.path.join(pkg, sub)
        for name in sorted(os.listdir(tdir)) if os.path.isdir(tdir) else []:
            if name.endswith(".json"):
                os.makedirs(os.path.join(out_dir, dst), exist_ok=True)
                shutil.copyfile(os.path.join(tdir, name), os.path.join(out_dir, dst, name))
                ext_cfg = json.load(open(os.path.join(tdir, name)))
                config = config_factory(ext_cfg["algo_name"])
                try:
                    with config.values_unlocked():
                        config.update(ext_cfg)
                    loads[dst + "/" + name] = "OK"
                except RuntimeError as e:
                    loads[dst + "/" + name] = "refused by this robomimic: %s" % e
    source.update({"robomimic.__version__": robomimic.__version__, "algorithms": algos,
                   "templates": loads})
    write_json(os.path.join(out_dir, "source.json"), source)
    print("wrote", out_dir, algos)


def flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def top_new(new_paths, old):
    """Collapse new leaves to the highest path the old dump lacks (train.action_config, not
    train.action_config.actions.normalization)."""
    tops = set()
    for p in new_paths:
        parts = p.split(".")
        for i in range(1, len(parts) + 1):
            if ".".join(parts[:i]) not in old:
                tops.add(".".join(parts[:i]))
                break
    return sorted(tops)


def diff_versions(v03, v05):
    per_algo, union, new_algos = {}, {}, []
    for name in sorted(os.listdir(v05)):
        if not name.endswith(".json") or name in ("open_keys.json", "source.json", "new_keys.json"):
            continue
        algo = name[:-5]
        if not os.path.exists(os.path.join(v03, name)):
            new_algos.append(algo)
            continue
        a = json.load(open(os.path.join(v03, name)))
        b = json.load(open(os.path.join(v05, name)))
        fa, fb = flatten(a), flatten(b)
        old_nodes = set(fa) | {p[:i] for p in fa for i in range(len(p)) if p[i] == "."}
        added = {}
        for p in top_new([p for p in fb if p not in fa], old_nodes):
            v = b
            for k in p.split("."):
                v = v[k]
            added[p] = v
        per_algo[algo] = {
            "added": added,
            "removed": {p: fa[p] for p in sorted(fa) if p not in fb},
            "changed_default": {p: {"v0.3": fa[p], "v0.5": fb[p]} for p in sorted(fa)
                                if p in fb and fa[p] != fb[p]},
        }
        for p, v in added.items():
            union.setdefault(p, {})[algo] = v
    # union: one default when every algo agrees, else the value per algo
    union = {p: (next(iter(vs.values())) if all(v == next(iter(vs.values())) for v in vs.values())
                 and len(vs) == len(per_algo) else {"by_algo": vs}) for p, vs in sorted(union.items())}
    write_json(os.path.join(v05, "new_keys.json"), {
        "note": "Dotted paths in robomimic v0.5's default dump absent from v0.3's, with v0.5's "
                "defaults. 'added' lists the highest missing path (a whole new section is one "
                "entry). union: over the algorithms both versions have; a path whose default "
                "differs between algorithms, or that only some algorithms add, is given by_algo.",
        "new_algorithms": new_algos, "union": union, "per_algo": per_algo})
    print("wrote", os.path.join(v05, "new_keys.json"))


def extract_v05(git_dir, ref):
    """robomimic/__init__.py, config/ and exps/templates/ at `ref`, file by file (`git show`),
    because the mirror may lack large unrelated blobs that `git archive` would trip on."""
    git = ["git", "--git-dir=" + git_dir]
    commit = subprocess.check_output(git + ["rev-parse", ref + "^{commit}"], text=True).strip()
    files = subprocess.check_output(git + ["ls-tree", "-r", "--name-only", commit, "robomimic/__init__.py",
                                           "robomimic/config", "robomimic/exps/templates"], text=True).split()
    shutil.rmtree(V05_SRC, ignore_errors=True)
    for f in files:
        os.makedirs(os.path.join(V05_SRC, os.path.dirname(f)), exist_ok=True)
        with open(os.path.join(V05_SRC, f), "wb") as out:
            out.write(subprocess.check_output(git + ["show", commit + ":" + f]))
    date = subprocess.check_output(git + ["log", "-1", "--format=%cI", commit], text=True).strip()
    tag = subprocess.run(git + ["describe", "--tags", commit], text=True, capture_output=True).stdout.strip()
    return {"source": "github:ARISE-Initiative/robomimic", "ref": ref, "commit": commit,
            "commit_date": date, "git_describe": tag}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--v05-git-dir", default="/work/.mirror/ARISE-Initiative+robomimic/repo")
    ap.add_argument("--v05-ref", default="master")
    ap.add_argument("--child", nargs=2, metavar=("OUT_DIR", "SOURCE_JSON"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:  # v0.5 worker: V05_SRC is first on sys.path (PYTHONPATH)
        import robomimic
        assert robomimic.__file__.startswith(V05_SRC), robomimic.__file__
        dump_version(args.child[0], json.loads(args.child[1]))
        return

    import importlib.metadata as md
    v03, v05 = os.path.join(OUT, "v0.3"), os.path.join(OUT, "v0.5")
    for d in (v03, v05):
        shutil.rmtree(d, ignore_errors=True)
    import robomimic
    assert robomimic.__version__ == "0.3.0", robomimic.__file__
    dump_version(v03, {"source": "PyPI robomimic==%s" % md.version("robomimic"),
                       "six": md.version("six"), "python": sys.version.split()[0]})

    src = extract_v05(args.v05_git_dir, args.v05_ref)
    src["python"] = sys.version.split()[0]
    env = dict(os.environ, PYTHONPATH=V05_SRC)
    subprocess.check_call([sys.executable, os.path.abspath(__file__), "--child", v05, json.dumps(src)],
                          env=env)
    diff_versions(v03, v05)


if __name__ == "__main__":
    main()
