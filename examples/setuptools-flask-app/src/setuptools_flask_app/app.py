"""The Flask app: serves the collected files under /static/ with long cache lifetimes.

Run it with ``flask --app setuptools_flask_app.app run``.
"""

from __future__ import annotations

from flask import Flask, render_template

from .assets import STATIC_DIR, static_url

app = Flask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
# Hashed names change whenever the content does, so browsers may cache for a year.
app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 365 * 24 * 3600


@app.context_processor
def static_helper() -> dict[str, object]:
    return {"static": static_url}


@app.route("/")
def index() -> str:
    return render_template("index.html")
