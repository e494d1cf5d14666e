"""``manage.py findstatic`` on our finders (Django's own for a finder we do
not implement), with Django's output."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from django.contrib.staticfiles.management.commands import findstatic
from django.core.management.base import CommandError

from collectstatic.finders import find

from ...plan import fallback_line, plan_from_django


class Command(findstatic.Command):
    def handle(self, *labels: str, **options: Any) -> Any:
        self.plan = plan_from_django(need_root=False)
        if self.plan.fallback:
            self.stderr.write(fallback_line(self.plan.fallback[0], "findstatic"))
        elif self.plan.problem:
            raise CommandError(self.plan.problem)
        return super().handle(*labels, **options)

    def handle_label(self, path: str, **options: Any) -> Any:
        settings = self.plan.settings
        if self.plan.fallback or settings is None:
            return super().handle_label(path, **options)
        verbosity = options["verbosity"]
        first = not options["all"]
        result = find(settings, path, first=first)
        searched = list(settings.sources)
        if first and result:  # (Django's finders stop at the first match)
            for index, source in enumerate(searched):
                if find(dataclasses.replace(settings, sources=(source,)), path, first=True):
                    searched = searched[: index + 1]
                    break
        locations = ""
        if verbosity >= 2:
            locations = ("\nLooking in the following locations:\n  "
                         + "\n  ".join(str(source.path) for source in searched))
        if result:
            result = [os.path.realpath(match) for match in result]
            if verbosity >= 1:
                return "Found '{}' here:\n  {}{}".format(path, "\n  ".join(result), locations)
            return "\n".join(result)
        message = [f"No matching file found for '{path}'."]
        if verbosity >= 2:
            message.append(locations)
        if verbosity >= 1:
            self.stderr.write("\n".join(message))
        return None
