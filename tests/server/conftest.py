"""Fixtures for the server tests: the learner record on SQLite and on a throwaway PostgreSQL.

Every test that takes `database` (or `store`, `app`) runs once per backend. The PostgreSQL runs
are marked `postgres`; the session starts one PostgreSQL (initdb on a free port, as the
`postgres` user when run as root) and stops it in a `finally`. Each test gets its own database.

When PostgreSQL cannot be started here, its tests are deselected and the terminal summary says,
loudly, how many did not run and why; with COURSEWIRE_REQUIRE_POSTGRES=1 (CI) they fail instead.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

from .record_client import free_port

REQUIRE_POSTGRES = os.environ.get("COURSEWIRE_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_bin():
    """The folder of the newest installed PostgreSQL's initdb and pg_ctl, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) if x.isdigit() else x for x in p.split("/")],
    )
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(os.path.realpath(initdb)) if initdb else None


def postgres_missing():
    """Why a throwaway PostgreSQL cannot be started here, or None."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -r requirements-dev.txt)"
    if postgres_bin() is None:
        return "initdb was not found (install Debian's postgresql package: apt-get install -y postgresql)"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "there is no 'postgres' user to run it as (PostgreSQL refuses to run as root)"
    return None


def pytest_collection_modifyitems(config, items):
    wanted = [item for item in items if item.get_closest_marker("postgres")]
    if not wanted or REQUIRE_POSTGRES:
        return  # required: the fixture fails each of them with the reason
    reason = postgres_missing()
    if reason is None:
        return
    config.hook.pytest_deselected(items=wanted)
    items[:] = [item for item in items if not item.get_closest_marker("postgres")]
    config._postgres_not_run = (len(wanted), reason)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    not_run = getattr(config, "_postgres_not_run", None)
    if not_run:
        count, reason = not_run
        terminalreporter.write_sep(
            "!",
            "%d PostgreSQL tests DID NOT RUN: %s. CI sets COURSEWIRE_REQUIRE_POSTGRES=1 to make this a failure."
            % (count, reason),
            red=True,
            bold=True,
        )


class PostgresServer:
    """One throwaway PostgreSQL cluster in a temporary folder, listening on 127.0.0.1 only."""

    def __init__(self):
        self.bin = postgres_bin()
        self.root = tempfile.mkdtemp(prefix="coursewire-pg-")
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.url = "postgresql://postgres@127.0.0.1:%d/postgres" % self.port
        self.started = False

    def _run(self, *command):
        tool = command[0]
        command = [os.path.join(self.bin, tool)] + list(command[1:])
        if self.as_root:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--"] + command
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError("%s failed: %s" % (tool, result.stdout.strip()[-2000:]))
        return result

    def start(self):
        if self.as_root:
            shutil.chown(self.root, "postgres")
        data = os.path.join(self.root, "data")
        self._run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self._run(
            "pg_ctl",
            "-D",
            data,
            "-l",
            os.path.join(self.root, "log"),
            "-w",
            "-t",
            "60",
            "-o",
            "-k %s -p %d -c listen_addresses=127.0.0.1 -c max_connections=200" % (self.root, self.port),
            "start",
        )
        self.started = True

    def stop(self):
        try:
            if self.started:
                self._run("pg_ctl", "-D", os.path.join(self.root, "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self):
        import psycopg

        name = "cw_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute('CREATE DATABASE "%s"' % name)
        return name, "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, name)

    def drop_database(self, name):
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


@pytest.fixture(scope="session")
def postgres_server():
    reason = postgres_missing()
    if reason is not None:
        pytest.fail(
            "PostgreSQL is required (COURSEWIRE_REQUIRE_POSTGRES=1) but cannot be started: %s." % reason, pytrace=False
        )
    server = PostgresServer()
    try:
        try:
            server.start()
        except (RuntimeError, OSError, subprocess.SubprocessError) as error:
            pytest.fail("A throwaway PostgreSQL could not be started: %s" % error, pytrace=False)
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database(backend, request, tmp_path):
    """A fresh, empty database for this test: an SQLite file path or a PostgreSQL URL."""
    if backend == "sqlite":
        yield str(tmp_path / "record.sqlite3")
        return
    server = request.getfixturevalue("postgres_server")
    name, url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture
def store(database):
    from coursewire.server.store import open_store

    opened = open_store(database)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def context(store, clock):
    """The server's routes over `store`, on the `clock` the test module defines."""
    from coursewire.server.wsgi import Context

    from .record_client import settings

    return Context(settings(), clock=clock, store=store)


@pytest.fixture
def client(context):
    from coursewire.server.wsgi import make_app

    from .record_client import WsgiClient

    return WsgiClient(make_app(context=context))
