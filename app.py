"""The WSGI app: `gunicorn app:app`. `python app.py` builds data/ if needed and serves it."""

from lod.config import Settings
from lod.web import create_app

app = create_app(build_if_missing=True)

if __name__ == "__main__":
    settings = Settings.from_env()
    app.run(host=settings.host, port=settings.port, threaded=True)
