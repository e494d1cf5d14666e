"""``python -m collectstatic``: the command line (:mod:`.cli`)."""

from .cli import console_main

console_main()
