"""``manage.py collectstatic`` on our engine.

Django's command keeps its flags, its prompt and its summary line: only
``collect()``, the part that finds, copies and post-processes, is ours. For a
storage or finder we do not implement, Django's own ``collect()`` runs, after
one line saying why.
"""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands import collectstatic
from django.core.files.storage import FileSystemStorage
from django.core.management.base import CommandError

from collectstatic.collection import CollectOptions, collect
from collectstatic.errors import CollectStaticError

from ...plan import fallback_line, plan_from_django


class Command(collectstatic.Command):
    help = collectstatic.Command.help + " (collectstatic's engine)"

    def handle(self, **options: Any) -> Any:
        self.cli_ignore = list(options["ignore_patterns"])  # (set_options adds to the list)
        self.plan = plan_from_django(link=options["link"],
                                     default_ignore=options["use_default_ignore_patterns"])
        if self.plan.fallback:
            self.stderr.write(fallback_line(self.plan.fallback[0], "collectstatic"))
        elif self.plan.problem:
            raise CommandError(self.plan.problem)
        else:
            # Django's prompt and summary look at the storage: a plain one at
            # STATIC_ROOT (the configured one reads the manifest when made, and
            # a damaged manifest is what a collection repairs).
            assert self.plan.settings is not None
            self.storage = FileSystemStorage(location=str(self.plan.settings.root))
        return super().handle(**options)

    def collect(self) -> dict[str, list[str]]:
        if self.plan.fallback:
            return super().collect()
        assert self.plan.settings is not None
        for warning in self.plan.warnings:
            self.stderr.write(f"warning: {warning}")
        run_options = CollectOptions(clear=self.clear, dry_run=self.dry_run,
                                     post_process=self.post_process,
                                     extra_ignore=tuple(self.cli_ignore))
        try:
            result = collect(self.plan.settings, run_options, log=self.log_line,
                             verbosity=self.verbosity)
        except CollectStaticError as exc:
            raise CommandError(str(exc)) from None
        if self.verbosity >= 1:
            for warning in result.warnings:
                self.stderr.write(f"warning: {warning}")
        return {
            "modified": result.copied,
            "unmodified": result.unmodified,
            "post_processed": result.post_processed,
            "skipped": result.skipped,
            "deleted": result.deleted,
        }

    def log_line(self, message: str, level: int) -> None:
        self.log(message, level=level)
