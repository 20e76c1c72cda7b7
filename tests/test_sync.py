"""`lod sync URL`: a live WordPress kept in step through its REST API.

The site is a real WordPress (tests/wordpress.py: Debian's wordpress, mariadb-server,
php-cli and php-mysql), installed by the fixture and filled through the REST API itself.
"""

from __future__ import annotations

import shutil

import pytest

from .conftest import require
from .wordpress import WordPress, available


@pytest.fixture(scope="module")
def wordpress(tmp_path_factory):
    """A real WordPress on 127.0.0.1 for the module, stopped at the end."""
    require(available(), "WordPress (wordpress, mariadb-server, php-cli, php-mysql)")
    site = WordPress(tmp_path_factory.mktemp("wordpress"))
    try:
        site.start()
        yield site
    finally:
        site.stop()
        shutil.rmtree(site.folder, ignore_errors=True)


@pytest.mark.slow
def test_the_test_site_answers_its_rest_api(wordpress):
    made = wordpress.post(title="Smoke", status="draft")
    assert made["status"] == "draft"
    wordpress.rest("DELETE", f"posts/{made['id']}", params={"force": "true"})
