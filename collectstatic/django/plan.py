"""From the running Django's settings to our :class:`~collectstatic.config.Settings`.

The commands and the checks share it: :func:`plan_from_django` reads what
Django resolved (:func:`.describe.describe`), and either gives the settings
to run our engine with, or says why Django's own command must run instead
(``fallback``: a storage or finder we do not implement), or what is wrong
(``problem``: one line for ``CommandError``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from collectstatic.config import Settings, settings_from_table
from collectstatic.djangosettings import table_from_django
from collectstatic.errors import ConfigError

from .describe import describe

__all__ = ["NO_STATIC_ROOT", "Plan", "fallback_line", "plan_from_django"]

# Django's own message (ImproperlyConfigured from StaticFilesStorage.path).
NO_STATIC_ROOT = ("You're using the staticfiles app without having set the STATIC_ROOT "
                  "setting to a filesystem path.")


def fallback_line(reason: str, command: str) -> str:
    """The one line a command prints before it runs Django's own."""
    return f"collectstatic.django: {reason}; running Django's own {command}."


@dataclass
class Plan:
    settings: Settings | None = None
    fallback: list[str] = field(default_factory=list)
    problem: str = ""
    warnings: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    table: dict[str, Any] = field(default_factory=dict)


def _project_root(info: dict[str, Any]) -> str:
    """A directory holding STATIC_ROOT and every STATICFILES_DIRS entry: our
    settings keep paths inside a project root, Django's may be anywhere."""
    storage = info.get("storage") or {}
    location = storage.get("location") or info.get("static_root")
    paths = [os.path.dirname(os.path.abspath(location))] if location else [os.getcwd()]
    paths += [entry[1] for entry in info.get("dirs") or [] if len(entry) == 2]
    return os.path.commonpath([os.path.realpath(p) for p in paths])


def plan_from_django(*, link: bool = False, default_ignore: bool = True,
                     need_root: bool = True) -> Plan:
    """What ``manage.py collectstatic`` runs, for the configured Django
    (``need_root=False``: only to find files, as ``findstatic`` does)."""
    from django.conf import settings as django_settings

    info = describe()
    where = getattr(django_settings, "SETTINGS_MODULE", None) or "settings"
    project_root = _project_root(info)
    django = table_from_django(info, where, project_root, inside_project=False)
    plan = Plan(warnings=django.warnings, info=info, table=django.table)
    if django.unsupported:
        plan.fallback = django.unsupported
        return plan
    if django.problems:
        plan.problem = "; ".join(django.problems)
        return plan
    table = dict(django.table)
    if "root" not in table:
        if need_root:
            plan.problem = NO_STATIC_ROOT
            return plan
        table["root"] = os.path.join(project_root, ".collectstatic-unused-root")  # (never written)
    # Django follows symlinks wherever they lead, and copies unless told to link.
    table["follow-external-symlinks"] = True
    table["link"] = link
    if not default_ignore:  # --no-default-ignore drops the staticfiles app's patterns
        table["default-ignore"] = False
        table.pop("ignore", None)
    try:
        plan.settings = settings_from_table(table, project_root, source=where)
    except ConfigError as exc:
        plan.problem = str(exc)
        return plan
    plan.warnings += plan.settings.warnings
    return plan
