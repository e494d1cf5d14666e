"""A Django app: ``manage.py collectstatic`` and ``findstatic`` on our engine.

List ``"collectstatic.django"`` in INSTALLED_APPS before
``"django.contrib.staticfiles"``: its commands take the place of Django's
(Django picks the first app that provides a command), read Django's
settings (:mod:`.describe`), turn them into our :class:`~collectstatic.config.Settings`
(:mod:`collectstatic.djangosettings`) and run :func:`collectstatic.collection.collect`.
Its system checks (:mod:`.checks`) look at the manifest under STATIC_ROOT.

Django is imported only inside this package; importing the package itself
imports nothing from Django.
"""

from __future__ import annotations
