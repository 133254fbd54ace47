"""Fixtures of the Docker tests: an image that stays up, built on the setup's Debian."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from typing import Any

import docker.errors
import pytest

#: the Debian image scripts/setup.sh builds (no registry: nothing is pulled)
DEBIAN = "nubo/debian:bookworm"
#: marks the images the tests build, so that they are removed whatever happens
IMAGE_LABEL = "io.nubo.test-image"
DOCKERFILE = f"""FROM {DEBIAN}
CMD ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
"""


@contextlib.contextmanager
def built_image(docker_client: Any, dockerfile: str, name: str) -> Iterator[str]:
    """An image built from ``dockerfile`` with the legacy builder, labelled as a test
    image, and removed afterwards whatever happens."""
    tag = f"nubo-test/{name}:{uuid.uuid4().hex[:8]}"
    try:
        docker_client.images.build(
            fileobj=io.BytesIO(dockerfile.encode()),
            tag=tag,
            labels={IMAGE_LABEL: name},
            rm=True,
            forcerm=True,
            pull=False,
        )
        yield tag
    finally:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(tag, force=True)


@pytest.fixture(scope="session")
def stub_image(docker_client: Any) -> Iterator[str]:
    """An image whose containers stay up doing nothing; lifecycle scripts give them work.

    Built with the legacy builder from the local Debian image, removed after the run.
    """
    with built_image(docker_client, DOCKERFILE, "stub") as tag:
        yield tag
