"""The app's configuration: registers the system checks."""

from __future__ import annotations

from django.apps import AppConfig


class CollectStaticConfig(AppConfig):
    name = "collectstatic.django"
    label = "collectstatic_django"
    verbose_name = "collectstatic"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
