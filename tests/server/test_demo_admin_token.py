"""serve.py without COURSEWIRE_ADMIN_TOKEN: it makes one admin token, keeps it in a file only its
owner can read (beside the SQLite database), prints where, never what; staff sign in with it."""

import json
import os
import stat
import subprocess
import sys
import threading
import time

import pytest

from coursewire.server.secret_file import SecretFileError, read_or_create

from .record_client import ROOT, free_port, http_request, server_env


def start_serve(database, env):
    port, harness_port = free_port(), free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            os.path.join(ROOT, "serve.py"),
            "--port",
            str(port),
            "--harness-port",
            str(harness_port),
            "--db",
            database,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = "http://127.0.0.1:%d" % port
    deadline = time.time() + 120
    while True:
        try:
            if http_request(base, "GET", "/api/staff-session", timeout=2).status == 200:
                return proc, base
        except OSError:
            pass
        if proc.poll() is not None:
            raise AssertionError("serve.py exited: " + proc.stdout.read())
        assert time.time() < deadline, "serve.py did not answer"
        time.sleep(0.1)


def stop(proc):
    proc.terminate()
    return proc.communicate(timeout=15)[0]


def sign_in(base, token):
    return http_request(
        base, "POST", "/api/staff-session", json.dumps({"token": token}).encode(), {"Content-Type": "application/json"}
    )


def test_serve_py_makes_one_admin_token_keeps_it_private_and_prints_only_its_path(tmp_path):
    database = str(tmp_path / "record.sqlite3")
    env = server_env(database)
    env.pop("COURSEWIRE_ADMIN_TOKEN")
    env.pop("COURSEWIRE_DB")
    token_file = tmp_path / "admin-token"

    proc, base = start_serve(database, env)
    try:
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        token = token_file.read_text().strip()
        assert len(token) >= 40
        assert sign_in(base, "a guess").status == 401
        answer = sign_in(base, token)
        assert answer.status == 200, answer
        cookie = answer.headers["Set-Cookie"].split(";")[0]
        assert token not in cookie
        assert http_request(base, "GET", "/api/records?course=101", headers={"Cookie": cookie}).status == 200
        # Signing out goes through serve.py's own HTTP server too (DELETE).
        out = http_request(base, "DELETE", "/api/staff-session")
        assert out.status == 200 and "Max-Age=0" in out.headers["Set-Cookie"]
    finally:
        output = stop(proc)
    assert "Staff report: %s/report.html  (sign in with the admin token in %s)" % (base, token_file) in output
    assert token not in output

    # A restart reads the same token: the staff's saved password keeps working.
    proc, base = start_serve(database, env)
    try:
        assert sign_in(base, token).status == 200
    finally:
        output = stop(proc)
    assert token not in output and token_file.read_text().strip() == token


def test_with_the_variable_set_no_file_is_made(tmp_path):
    database = str(tmp_path / "record.sqlite3")
    env = server_env(database)
    env.pop("COURSEWIRE_DB")
    proc, base = start_serve(database, env)
    try:
        assert sign_in(base, env["COURSEWIRE_ADMIN_TOKEN"]).status == 200
    finally:
        output = stop(proc)
    assert not (tmp_path / "admin-token").exists()
    assert "(sign in with COURSEWIRE_ADMIN_TOKEN)" in output and env["COURSEWIRE_ADMIN_TOKEN"] not in output


def test_serve_py_refuses_an_admin_token_file_others_can_read_in_one_sentence(tmp_path):
    database = str(tmp_path / "record.sqlite3")
    (tmp_path / "admin-token").write_text("a-token-someone-else-could-read\n")
    os.chmod(tmp_path / "admin-token", 0o644)
    env = server_env(database)
    env.pop("COURSEWIRE_ADMIN_TOKEN")
    env.pop("COURSEWIRE_DB")
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "serve.py"),
            "--port",
            str(free_port()),
            "--harness-port",
            str(free_port()),
            "--db",
            database,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("serve.py: The secret file ") and last.endswith("run chmod 600 on it.")
    assert "Traceback" not in proc.stdout and "a-token-someone-else-could-read" not in proc.stdout


# -- secret_file on its own --


def test_a_secret_file_is_made_once_and_read_after(tmp_path):
    path = str(tmp_path / "folder" / "secret")
    first = read_or_create(path)
    assert read_or_create(path, make=lambda: "another") == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(tmp_path / "folder") == ["secret"]  # no temporary file left behind


def test_processes_starting_at_once_agree_on_one_secret(tmp_path):
    path = str(tmp_path / "secret")
    seen = []
    threads = [
        threading.Thread(target=lambda i=i: seen.append(read_or_create(path, make=lambda: "secret-%d" % i)))
        for i in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 16 and len(set(seen)) == 1


@pytest.mark.parametrize("content", ["", "\n", "two words\n", "x" * 2000])
def test_a_secret_file_that_holds_no_secret_is_refused_in_one_sentence(tmp_path, content):
    path = tmp_path / "secret"
    path.write_text(content)
    os.chmod(path, 0o600)
    with pytest.raises(SecretFileError) as refused:
        read_or_create(str(path))
    assert str(refused.value).endswith("remove it to make a new one.")
