"""An example Flask app whose static files are collected and hashed at build time."""
