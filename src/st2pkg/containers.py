"""The one typed wrapper over the Docker SDK: every container, image, network and volume
operation of st2pkg goes through ``Docker``."""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests

from .engineliveness import engine_call as _engine_call
from .engineliveness import transient as _transient
from .errors import StageError, UnavailableError
from .retry import retrying

LABEL = "st2pkg.run"


@dataclass(frozen=True)
class FileEntry:
    """A file to copy into a container: content, mode, owner uid/gid."""

    data: bytes
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


def _tar(files: Mapping[str, FileEntry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        dirs = sorted({str(Path(p).parent) for p in files} - {"."})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o700
            tar.addfile(info)
        for path, entry in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(entry.data), entry.mode
            info.uid, info.gid, info.mtime = entry.uid, entry.gid, int(time.time())
            tar.addfile(info, io.BytesIO(entry.data))
    return buf.getvalue()


def engine_answers(timeout: float = 5.0) -> bool:
    """Whether the engine the environment names answers a ping within ``timeout`` seconds."""
    try:
        client = docker.from_env(timeout=int(timeout))
    except docker.errors.DockerException:
        return False
    try:
        return bool(client.ping())
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return False
    finally:
        client.close()


class Docker:
    """A connected Docker engine."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client

    @classmethod
    def from_env(cls) -> Docker:
        """Connect as the docker CLI would (DOCKER_HOST etc.), or say why not."""
        client = None
        try:
            client = docker.from_env()
            client.ping()
        except docker.errors.DockerException as err:
            if client is not None:
                client.close()
            raise UnavailableError(f"cannot reach the Docker engine: {err}. Start Docker or "
                                   "set DOCKER_HOST.") from err
        return cls(client)

    # images
    @_engine_call
    def image_id(self, ref: str) -> str | None:
        """The local image id of ``ref``, or None when it is not present."""
        try:
            return str(self.client.images.get(ref).id)
        except docker.errors.ImageNotFound:
            return None

    def pull(self, ref: str) -> str:
        """Pull ``ref`` from its registry (transient failures retried); UnavailableError with
        the engine's reason."""
        try:
            return retrying(lambda: str(self.client.images.pull(ref).id), what=f"pulling {ref}",
                            transient=_transient)
        except docker.errors.APIError as err:
            reason = str(err.explanation or err).splitlines()[0]
            raise UnavailableError(f"cannot pull {ref}: {reason}") from err
        except requests.exceptions.ConnectionError as err:
            raise UnavailableError(f"cannot pull {ref}: the engine did not answer ({err})") from err

    @_engine_call
    def can_pull(self, ref: str) -> bool:
        """Whether the registry of ``ref`` answers for it (asks for the manifest only)."""
        try:
            self.client.api.inspect_distribution(ref)
        except docker.errors.APIError:
            return False
        return True

    @_engine_call
    def image_labels(self, ref: str) -> dict[str, str]:
        """The labels of a local image ({} when it has none or is absent)."""
        try:
            return dict(self.client.images.get(ref).labels or {})
        except docker.errors.ImageNotFound:
            return {}

    @_engine_call
    def tag(self, ref: str, new_ref: str) -> None:
        """Point ``new_ref`` (repository:tag) at the local image ``ref``."""
        repo, tag = new_ref.rsplit(":", 1)
        self.client.images.get(ref).tag(repo, tag)

    @_engine_call
    def import_rootfs(self, tar_path: Path, ref: str, labels: Mapping[str, str]) -> str:
        """Import a root file system tarball as image ``ref``, with ``labels``."""
        repo, tag = ref.rsplit(":", 1)
        changes = ['CMD ["/bin/bash"]', *(f"LABEL {json.dumps(k)}={json.dumps(v)}"
                                          for k, v in labels.items())]
        self.client.api.import_image_from_file(str(tar_path), repository=repo, tag=tag,
                                               changes=changes)
        image = self.image_id(ref)
        if image is None:
            raise StageError(f"importing {tar_path} as {ref} produced no image")
        return image

    @_engine_call
    def build(self, context: Path, dockerfile: str, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str], log: Callable[[str], None]) -> str:
        """Build an image, streaming its output lines to ``log``; StageError on failure."""
        try:
            stream = self.client.api.build(path=str(context), dockerfile=dockerfile, tag=tag,
                                           buildargs=dict(buildargs), labels=dict(labels),
                                           rm=True, forcerm=True, decode=True)
            for chunk in stream:
                if "stream" in chunk:
                    for line in str(chunk["stream"]).splitlines():
                        log(line)
                if "error" in chunk:
                    log(str(chunk["error"]))
                    raise StageError(f"building image {tag} failed: {str(chunk['error']).strip()}")
        except docker.errors.APIError as err:
            raise StageError(f"building image {tag} failed: {err.explanation or err}") from err
        image = self.image_id(tag)
        if image is None:
            raise StageError(f"building image {tag} produced no image")
        return image

    @_engine_call
    def remove_image(self, ref: str) -> None:
        """Remove the tag ``ref`` (and the image, if nothing else uses it)."""
        self.client.images.remove(ref, force=True)

    @_engine_call
    def remove_images(self, repository_prefix: str) -> list[str]:
        """Remove every image whose repository starts with ``repository_prefix``."""
        removed = []
        for image in self.client.images.list():
            for ref in image.tags:
                if ref.startswith(repository_prefix):
                    self.client.images.remove(ref, force=True)
                    removed.append(ref)
        return removed

    # containers
    @_engine_call
    def containers(self, labels: Mapping[str, str] | Iterable[str]) -> list[Any]:
        """Containers (running or not) carrying all ``labels`` (key=value or bare keys)."""
        items = [f"{k}={v}" for k, v in labels.items()] if isinstance(labels, Mapping) \
            else list(labels)
        # ignore_removed: a container removed between the list and its inspect is simply gone
        return list(self.client.containers.list(all=True, filters={"label": items},
                                                ignore_removed=True))

    @_engine_call
    def container(self, name: str) -> Any:
        """The container called ``name`` (StageError when absent)."""
        try:
            return self.client.containers.get(name)
        except docker.errors.NotFound as err:
            raise StageError(f"container {name} does not exist") from err

    @_engine_call
    def run_once(self, image: str, argv: list[str], volumes: Mapping[str, Mapping[str, str]],
                 env: Mapping[str, str], user: str,
                 labels: Mapping[str, str]) -> tuple[int, str]:
        """Run ``argv`` in a throwaway container; returns (exit code, combined output).

        A command the runtime cannot start (missing, or not executable there) gives 127 and
        the engine's reason, like a shell would."""
        container = self.client.containers.create(image, argv, volumes=dict(volumes),
                                                  environment=dict(env), user=user,
                                                  labels=dict(labels))
        try:
            try:
                container.start()
            except docker.errors.APIError as err:
                return 127, str(err.explanation or err)
            code = int(container.wait()["StatusCode"])
            output = bytes(container.logs()).decode("utf-8", "replace")
        finally:
            container.remove(force=True)
        return code, output

    @_engine_call
    def put_files(self, name: str, root: str, files: Mapping[str, FileEntry]) -> None:
        """Copy files (paths relative to ``root``) into a created or running container."""
        if not self.container(name).put_archive(root, _tar(files)):
            raise StageError(f"copying files into {name}:{root} failed")

    @_engine_call
    def exec(self, name: str, argv: list[str], user: str = "root") -> tuple[int, str]:
        """Run ``argv`` in a running container; returns (exit code, combined output)."""
        result = self.container(name).exec_run(argv, user=user, demux=False)
        return int(result.exit_code), (result.output or b"").decode("utf-8", "replace")

    @_engine_call
    def published_port(self, name: str, port: int = 22) -> int:
        """The 127.0.0.1 host port published for the container's ``port``/tcp."""
        container = self.container(name)
        container.reload()
        bindings = (container.attrs["NetworkSettings"]["Ports"] or {}).get(f"{port}/tcp") or []
        for binding in bindings:
            if binding.get("HostIp") == "127.0.0.1":
                return int(binding["HostPort"])
        raise StageError(f"container {name} publishes no 127.0.0.1 port for {port}/tcp")

    @_engine_call
    def state(self, name: str) -> tuple[str, str | None]:
        """(status, health) of a container; health is None without a healthcheck."""
        container = self.container(name)
        container.reload()
        state = container.attrs["State"]
        return str(state["Status"]), (state.get("Health") or {}).get("Status")

    @_engine_call
    def logs(self, name: str, tail: int = 50) -> str:
        """The last ``tail`` lines of a container's output."""
        return bytes(self.container(name).logs(tail=tail)).decode("utf-8", "replace")

    @_engine_call
    def remove_labelled(self, label: str, patience: float = 60.0) -> dict[str, int]:
        """Force-remove containers, then networks and volumes, carrying ``label``.

        Others may remove the same things at the same time (compose down in a worker, a second
        sweep): what they removed first is not counted here and is no error. What is still
        busy (a removal in progress, a network whose containers are still going) is tried
        again for up to ``patience`` seconds, then named in a StageError."""
        counts = {"containers": 0, "networks": 0, "volumes": 0}
        kinds: list[tuple[str, Callable[[], list[Any]], Callable[[Any], None]]] = [
            ("containers", lambda: self.containers([label]),
             lambda c: c.remove(force=True, v=True)),
            ("networks", lambda: self.client.networks.list(filters={"label": label}),
             lambda n: n.remove()),
            ("volumes", lambda: self.client.volumes.list(filters={"label": label}),
             lambda v: v.remove(force=True)),
        ]
        deadline = time.monotonic() + patience
        while True:
            busy = []
            for kind, listed, remove in kinds:
                for item in listed():
                    try:
                        remove(item)
                        counts[kind] += 1
                    except docker.errors.NotFound:
                        pass
                    except docker.errors.APIError as err:
                        busy.append(f"{kind[:-1]} {item.name}: {err.explanation or err}")
            if not busy:
                return counts
            if time.monotonic() > deadline:
                raise StageError(f"could not remove everything labelled {label}:\n  "
                                 + "\n  ".join(busy))
            time.sleep(0.5)
