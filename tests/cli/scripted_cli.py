"""Run the real `scenario-forge` entry point with a slow scripted backend registered as `scripted`.

Used by tests that need a real process and terminal (progress bar, Ctrl-C) without a model.
"""

from __future__ import annotations

import itertools
import os
import sys
import time

from forge.backends.registry import register
from forge.cli import main
from tests.fakes._http import varied_prompt
from tests.fakes.scripted import ScriptedBackend, scenario_json

def _varied_replies() -> ScriptedBackend:
    delay = float(os.environ.get("SCRIPTED_DELAY", "0"))
    counter = itertools.count()

    def reply() -> str:
        time.sleep(delay)
        return scenario_json(varied_prompt(next(counter)))

    return ScriptedBackend([reply] * 1000)


register("scripted")(lambda settings, model: _varied_replies())

if __name__ == "__main__":
    main(sys.argv[1:])
