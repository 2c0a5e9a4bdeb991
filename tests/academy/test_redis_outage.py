"""A Redis outage does not take the site down (issue 17, finding 3).

The test runs its own Redis (``redis-server`` on a free port, nothing on disk), points the
cache and the sessions at it as production does (``REDIS_CACHE_URL``), signs a coach in,
stops Redis, and checks: the signed-in coach's pages still work (sessions come from the
database), no request is a 500, and sign-in attempts are refused with a 503 that says why
(the rate limits cannot be counted: they fail closed). With Redis back, sign-in works.
"""
import shutil
import socket
import subprocess
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse

from tests.services import skip_or_fail

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRedis:
    """A throw-away redis-server on 127.0.0.1:``port`` (no persistence), started and stopped by the test."""

    def __init__(self):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            skip_or_fail("needs the redis-server program to start a Redis of its own (apt-get install redis-server)")
        self.port = _free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis():
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.stop()


def _settings(port):
    from academy.settings import redis_caches  # the production configuration

    return override_settings(CACHES=redis_caches(f"redis://127.0.0.1:{port}/0"),
                             SESSION_ENGINE="django.contrib.sessions.backends.cached_db")


def test_signed_in_pages_survive_a_redis_outage_and_sign_in_fails_closed(client, own_redis, coach, other_coach):
    with _settings(own_redis.port):
        caches["default"].clear()
        response = client.post(reverse("account_login"), {"login": coach.email, "password": PASSWORD})
        assert response.status_code == 302 and client.session[SESSION_KEY] == str(coach.pk)
        assert client.get(reverse("coach:home")).status_code == 200

        own_redis.stop()
        for url in (reverse("coach:home"), reverse("learners:list"), reverse("coach:home")):
            assert client.get(url).status_code == 200, url  # the session is read from the database
        other = client.__class__()
        refused = other.post(reverse("account_login"), {"login": other_coach.email, "password": PASSWORD})
        assert refused.status_code == 503 and refused["Retry-After"] == "120"
        assert "Sign-in is paused for a few minutes" in refused.content.decode()
        assert SESSION_KEY not in other.session
        assert other.get(reverse("account_login")).status_code == 200  # the page itself still shows

        own_redis.start()
        caches["default"].clear()
        response = other.post(reverse("account_login"), {"login": other_coach.email, "password": PASSWORD})
        assert response.status_code == 302 and other.session[SESSION_KEY] == str(other_coach.pk)
