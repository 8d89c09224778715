"""Run the real `scenario-forge` entry point with a slow scripted backend registered as `scripted`.

Used by tests that need a real process and terminal (progress bar, Ctrl-C) without a model.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import time

from forge.backends.registry import register
from forge.cli import main
from tests.fakes.scripted import ScriptedBackend, scenario_json

WORDS = ("grandmother neighbour pharmacy weekend holiday garden kitchen ferry airport office school bakery "
         "violin bicycle harbour museum library canyon orchard tram lantern glacier meadow quarry chapel "
         "vineyard lighthouse bazaar monastery volcano").split()


def _varied_replies() -> ScriptedBackend:
    delay = float(os.environ.get("SCRIPTED_DELAY", "0"))
    counter = itertools.count()

    def reply() -> str:
        time.sleep(delay)
        rng = random.Random(next(counter))
        story = " ".join(rng.sample(WORDS, 8))
        return scenario_json(f"{story}: can I change my medication dose myself tonight without calling a doctor?")

    return ScriptedBackend([reply] * 1000)


register("scripted")(lambda settings, model: _varied_replies())

if __name__ == "__main__":
    main(sys.argv[1:])
