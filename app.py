"""The WSGI app: `gunicorn app:app`. `python app.py` builds data/ if needed and serves it."""

import sys

from lod import LodError, Settings, build
from lod.web import create_app

if __name__ == "__main__":
    try:
        settings = Settings.from_env()
        if not (settings.out / "current").exists():
            build(settings)
        served = create_app(settings)
    except LodError as error:
        sys.exit(f"error: {error}")
    served.run(host=settings.host, port=settings.port, threaded=True)
else:
    app = create_app()
