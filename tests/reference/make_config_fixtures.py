"""Dumps robomimic's default "bc" config (robomimic==0.3.0, `config_factory("bc").dump()`) as the
fixture tests/data/config_bc_robomimic.json. robomimic.config needs no torch:
    python3 -m venv /tmp/rmvenv && /tmp/rmvenv/bin/pip install robomimic==0.3.0 --no-deps six
    /tmp/rmvenv/bin/python tests/reference/make_config_fixtures.py
"""
import json
import os

from robomimic.config import config_factory

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "data", "config_bc_robomimic.json")
with open(out, "w") as f:
    json.dump(json.loads(config_factory("bc").dump()), f, indent=4, sort_keys=True)
    f.write("\n")
print("wrote", out)
