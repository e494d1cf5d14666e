"""The Flask app, with the collected files served under /static/ by collectstatic.

Run it with ``flask --app setuptools_flask_app.app run``.

``StaticFiles`` sends hashed names (the manifest's values, which change whenever
the content does) with ``Cache-Control: public, max-age=31536000, immutable``,
and files under their original names (``css/app.css``) with a short ``max-age``
and an ``ETag``, so a browser never keeps a stale copy of those for long.
"""

from __future__ import annotations

from flask import Flask, render_template

from collectstatic.serve import StaticFiles

from .assets import STATIC_DIR, static_url

app = Flask(__name__, static_folder=None)
app.wsgi_app = StaticFiles(STATIC_DIR, "/static/", app=app.wsgi_app)  # type: ignore[method-assign]


@app.context_processor
def static_helper() -> dict[str, object]:
    return {"static": static_url}


@app.route("/")
def index() -> str:
    return render_template("index.html")
