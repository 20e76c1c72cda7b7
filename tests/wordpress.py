"""A real WordPress (Debian's `wordpress`, `mariadb-server`, `php-cli`, `php-mysql`) for
tests/test_sync.py and bench/sync.py: everything in one temporary folder, started and
stopped by process id.

- MariaDB: a database folder of its own (`mariadb-install-db`), `mariadbd` on a Unix socket
  in that folder, no network (`--skip-networking`), as the current user.
- WordPress: the package's files (/usr/share/wordpress) linked into a site folder that has
  its own `wp-config.php` (Debian's reads /etc/wordpress, which a test must not touch),
  its own wp-content/ (uploads) and a router for PHP's built-in server (`php -S`) on a free
  port of 127.0.0.1: files as they are, `.php` scripts with ABSPATH set to the site folder,
  anything else (pretty permalinks, /wp-json/) to index.php.
- Installed by `wp_install()` from a PHP script (no WP-CLI in Debian 12), with an
  administrator and an application password (WP_ENVIRONMENT_TYPE `local` lets one be used
  over plain HTTP); content is then made through the REST API itself (`rest`).
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import zlib
from pathlib import Path

import requests

WORDPRESS = Path("/usr/share/wordpress")
PROGRAMS = ("php", "mariadbd", "mariadb-install-db", "mariadb")
ADMIN = "admin"

CONFIG = """\
<?php
// Test site: written by tests/wordpress.py.
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', 'wordpress');
define('DB_HOST', 'localhost:{socket}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
define('WP_HOME', '{url}');
define('WP_SITEURL', '{url}');
define('WP_CONTENT_DIR', '{site}/wp-content');
define('WP_CONTENT_URL', '{url}/wp-content');
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
{keys}
$table_prefix = 'wp_';
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
"""

ROUTER = """\
<?php
// PHP's built-in server in front of WordPress: static files as they are; PHP scripts run
// with ABSPATH set to this folder (so this folder's wp-config.php is read); anything else
// goes to index.php (pretty permalinks, /wp-json/).
define('ABSPATH', __DIR__ . '/');
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$file = realpath(__DIR__ . $path) ? __DIR__ . $path : '';
if ($path !== '/' && $file !== '' && is_file($file)) {
    if (substr($file, -4) !== '.php') {
        return false;
    }
} else {
    $path = '/index.php';
    $file = __DIR__ . '/index.php';
}
$_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = $path;
$_SERVER['SCRIPT_FILENAME'] = $file;
chdir(dirname($file));
require $file;
"""

NO_MAIL = """\
<?php
// Test site: no mail leaves it.
function wp_mail() { return true; }
"""

INSTALL = """\
<?php
define('WP_INSTALLING', true);
define('ABSPATH', '{site}/');
$_SERVER['HTTP_HOST'] = '127.0.0.1';
require ABSPATH . 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$installed = wp_install('{title}', '{admin}', 'admin@example.org', true, '', '{password}');
update_option('permalink_structure', '/%postname%/');
update_option('blogdescription', '{description}');
update_option('timezone_string', '{timezone}');
update_option('WPLANG', '');
list($secret, $item) = WP_Application_Passwords::create_new_application_password(
    $installed['user_id'], array('name' => 'lod sync tests'));
echo json_encode(array('user' => '{admin}', 'password' => $secret));
"""


def available() -> bool:
    return all(shutil.which(p) for p in PROGRAMS) and (WORDPRESS / "wp-settings.php").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def png(red: int = 200, green: int = 30, blue: int = 30) -> bytes:
    """A 2x2 PNG of one colour (WordPress makes its thumbnails from it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    row = b"\x00" + bytes([red, green, blue]) * 2
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * 2))
        + chunk(b"IEND", b"")
    )


class WordPress:
    """One WordPress site and its database: `start()`, `stop()`, `rest()`."""

    def __init__(
        self, folder: Path, *, title: str = "Example News", timezone: str = "Europe/Paris"
    ):
        self.folder = Path(folder)
        self.db = self.folder / "db"
        self.site = self.folder / "site"
        self.socket = self.folder / "mysql.sock"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.title, self.timezone = title, timezone
        self.user, self.password = ADMIN, ""
        self.processes: list[subprocess.Popen] = []
        self.session = requests.Session()

    # lifecycle

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._database()
        self._site()
        self._install()
        self._serve()

    def stop(self) -> None:
        """The web server, then MariaDB: SIGTERM, SIGKILL after 20 s."""
        self.session.close()
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()

    def _run(self, *command: str, **options) -> subprocess.CompletedProcess:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, **options)
        if result.returncode != 0:
            output = result.stdout[-1000:] + result.stderr[-2000:]
            raise RuntimeError(f"{command[0]} failed: {output}")
        return result

    def _database(self) -> None:
        user = getpass.getuser()
        self._run(
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={self.db}",
            f"--user={user}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        )
        log = open(self.folder / "mariadb.log", "wb")  # noqa: SIM115 (the process keeps it)
        self.processes.append(
            subprocess.Popen(
                [
                    "mariadbd",
                    "--no-defaults",
                    f"--datadir={self.db}",
                    f"--socket={self.socket}",
                    f"--pid-file={self.folder / 'mariadb.pid'}",
                    "--skip-networking",
                    f"--user={user}",
                    "--innodb-buffer-pool-size=32M",
                    "--skip-log-bin",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        log.close()
        sql = (
            "CREATE DATABASE wordpress CHARACTER SET utf8mb4; "
            "CREATE USER 'wordpress'@'localhost' IDENTIFIED BY 'wordpress'; "
            "GRANT ALL ON wordpress.* TO 'wordpress'@'localhost';"
        )
        deadline = time.monotonic() + 60
        while True:
            result = subprocess.run(
                ["mariadb", "--no-defaults", f"--socket={self.socket}", "-u", user, "-e", sql],
                capture_output=True,
                text=True,
            )
            if result.returncode == 0:
                return
            if self.processes[-1].poll() is not None or time.monotonic() > deadline:
                log_text = (self.folder / "mariadb.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"MariaDB did not start: {result.stderr}{log_text}")
            time.sleep(0.2)

    def _site(self) -> None:
        self.site.mkdir()
        for entry in WORDPRESS.iterdir():
            if entry.name not in ("wp-config.php", "wp-content"):
                (self.site / entry.name).symlink_to(entry)
        content = self.site / "wp-content"
        (content / "uploads").mkdir(parents=True)
        (content / "themes").mkdir()
        (content / "mu-plugins").mkdir()
        (content / "plugins").symlink_to(WORDPRESS / "wp-content" / "plugins")
        (content / "mu-plugins" / "no-mail.php").write_text(NO_MAIL)
        keys = "\n".join(
            f"define('{name}', '{os.urandom(16).hex()}');"
            for name in (
                "AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY "
                "AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT"
            ).split()
        )
        (self.site / "wp-config.php").write_text(
            CONFIG.format(socket=self.socket, url=self.url, site=self.site, keys=keys)
        )
        (self.folder / "router.php").write_text(ROUTER)

    def _install(self) -> None:
        script = self.folder / "install.php"
        script.write_text(
            INSTALL.format(
                site=self.site,
                title=self.title,
                admin=ADMIN,
                password=os.urandom(12).hex(),
                description="News from an example organisation",
                timezone=self.timezone,
            )
        )
        output = self._run("php", str(script), cwd=self.folder).stdout
        credentials = json.loads(output[output.index("{") :])
        self.user, self.password = credentials["user"], credentials["password"]
        self.session.auth = (self.user, self.password)

    def _serve(self) -> None:
        log = open(self.folder / "php.log", "wb")  # noqa: SIM115 (the process keeps it)
        router = self.folder / "router.php"
        shutil.move(router, self.site / "router.php")
        self.processes.append(
            subprocess.Popen(
                ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(self.site), "router.php"],
                cwd=self.site,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PHP_CLI_SERVER_WORKERS": "1"},
            )
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.processes[-1].poll() is not None:
                break
            try:
                if requests.get(self.url + "/wp-json/", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        log_text = (self.folder / "php.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"WordPress did not answer: {log_text}")

    # content, through the REST API

    def rest(self, method: str, route: str, **options):
        """A request to /wp-json/wp/v2/<route> as the administrator; its JSON (raises on
        an error status, naming it and WordPress's message)."""
        options.setdefault("timeout", 60)
        answer = self.session.request(method, f"{self.url}/wp-json/wp/v2/{route}", **options)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {route}: {answer.status_code} {answer.text[:500]}")
        return answer.json()

    def batch(self, requests_: list[dict]) -> list[dict]:
        """Up to 25 requests in one (/wp-json/batch/v1): each {method, path, body}."""
        answer = self.session.post(
            f"{self.url}/wp-json/batch/v1", json={"requests": requests_}, timeout=300
        )
        if answer.status_code >= 400:
            raise RuntimeError(f"batch: {answer.status_code} {answer.text[:500]}")
        return [response["body"] for response in answer.json()["responses"]]

    def post(self, **fields) -> dict:
        return self.rest("POST", "posts", json=fields)

    def edit(self, post_id: int, **fields) -> dict:
        return self.rest("POST", f"posts/{post_id}", json=fields)

    def category(self, name: str, parent: int = 0) -> dict:
        return self.rest("POST", "categories", json={"name": name, "parent": parent})

    def tag(self, name: str) -> dict:
        return self.rest("POST", "tags", json={"name": name})

    def author(self, username: str, name: str) -> dict:
        return self.rest(
            "POST",
            "users",
            json={
                "username": username,
                "name": name,
                "email": f"{username}@example.org",
                "password": os.urandom(12).hex(),
                "roles": ["author"],
            },
        )

    def image(self, filename: str, caption: str = "", alt: str = "", **colour) -> dict:
        uploaded = self.rest(
            "POST",
            "media",
            data=png(**colour),
            headers={
                "Content-Type": "image/png",
                "Content-Disposition": f'attachment; filename="{filename}"',
            },
        )
        if caption or alt:
            uploaded = self.rest(
                "POST", f"media/{uploaded['id']}", json={"caption": caption, "alt_text": alt}
            )
        return uploaded
