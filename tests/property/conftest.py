"""Property tests compile hundreds of one-operator models: build them at -O1, where gcc is
several times faster to compile; the shared-model and CLI tests keep the shipped -O3."""
import pytest


@pytest.fixture(autouse=True)
def _fast_host_builds(monkeypatch):
    monkeypatch.setenv("EVO_HOST_OPT", "-O1")
