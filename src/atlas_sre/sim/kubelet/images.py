"""Image references, pull timings and the kubelet/containerd wording around image pulls.

The words are what an agent greps for (`ErrImagePull`, `not found`, `Back-off pulling image`), so
they follow kubelet 1.32 (`pkg/kubelet/images/image_manager.go`) and containerd's resolver:
events name the image as the pod spec writes it, containerd's error names the normalized
reference (`docker.io/library/nginx:1.99`). Durations and sizes are derived from the image name,
so the same scenario always prints the same "in 1.234s".
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from atlas_sre.sim.ids import digest

Obj = dict[str, Any]


@lru_cache(maxsize=4096)
def normalize(image: str) -> str:
    """The fully qualified reference containerd resolves (docker's ParseNormalizedNamed + default tag)."""
    name, _, digest_part = image.partition("@")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = "docker.io", name
        if "/" not in path:
            path = f"library/{path}"
    last = path.rsplit("/", 1)[-1]
    if not digest_part and ":" not in last:
        path += ":latest"
    return f"{domain}/{path}" + (f"@{digest_part}" if digest_part else "")


def repository(image: str) -> str:
    """The normalized reference without tag or digest (what `imageID` is written against)."""
    ref = normalize(image).partition("@")[0]
    head, _, last = ref.rpartition("/")
    return f"{head}/{last.partition(':')[0]}"


@lru_cache(maxsize=4096)
def image_id(image: str) -> str:
    """`status.containerStatuses[].imageID`: the repository at a content digest."""
    return f"{repository(image)}@sha256:{hashlib.sha256(normalize(image).encode()).hexdigest()}"


def pull_policy(container: Obj) -> str:
    """The defaulted `imagePullPolicy`: Always for `:latest` or untagged images, else IfNotPresent."""
    policy = container.get("imagePullPolicy")
    if policy:
        return str(policy)
    image = str(container.get("image", ""))
    if "@" in image:
        return "IfNotPresent"
    return "Always" if normalize(image).endswith(":latest") else "IfNotPresent"


@lru_cache(maxsize=4096)
def _num(image: str, salt: str, lo: int, hi: int) -> int:
    raw = int.from_bytes(digest("image", salt, image)[:4], "big")
    return lo + raw % (hi - lo + 1)


def image_size(image: str) -> int:
    """Bytes reported after a pull ("Image size: N bytes.")."""
    return _num(image, "size", 4_000_000, 240_000_000)


def pull_ms(image: str) -> int:
    """A first pull: about 40 MB/s plus registry round trips."""
    return 400 + image_size(image) // 40_000 + _num(image, "jitter", 0, 300)


def repull_ms(image: str) -> int:
    """A pull of an image already on the node (policy Always): only the manifest is fetched."""
    return _num(image, "repull", 180, 900)


def fail_ms(image: str) -> int:
    """How long the resolver takes to answer "not found"."""
    return _num(image, "fail", 250, 900)


def go_duration(ms: int) -> str:
    """Go's `time.Duration.String()` for a whole number of milliseconds ("312ms", "1.5s", "5m0s")."""
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rem = divmod(ms, 3_600_000)
    minutes, rem = divmod(rem, 60_000)
    secs, frac = divmod(rem, 1000)
    text = f"{secs}" + (f".{frac:03d}".rstrip("0") if frac else "") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


def pull_error(image: str) -> str:
    """containerd's answer for a reference the registry does not have, as the CRI returns it."""
    ref = normalize(image)
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
        f'failed to resolve reference "{ref}": {ref}: not found'
    )


def msg_pulling(image: str) -> str:
    """Normal/Pulling: an image pull begins."""
    return f'Pulling image "{image}"'


def msg_pulled(image: str, ms: int, waited_ms: int) -> str:
    """Normal/Pulled after a pull (1.30+ wording: time including queueing, and the size)."""
    return (
        f'Successfully pulled image "{image}" in {go_duration(ms)} '
        f"({go_duration(waited_ms)} including waiting). Image size: {image_size(image)} bytes."
    )


def msg_present(image: str) -> str:
    """Normal/Pulled when IfNotPresent finds the image on the node (every restart says it again)."""
    return f'Container image "{image}" already present on machine'


def msg_failed_pull(image: str) -> str:
    """Warning/Failed carrying the runtime's error: the line that says *why* a pull fails."""
    return f'Failed to pull image "{image}": {pull_error(image)}'


def msg_backoff_pull(image: str) -> str:
    """The BackOff event's message (the event keeps the short form)."""
    return f'Back-off pulling image "{image}"'


def waiting_backoff_message(image: str) -> str:
    """The waiting state's message during back-off: since 1.32 it carries the last pull error."""
    return f'{msg_backoff_pull(image)}: ErrImagePull: {pull_error(image)}'


def msg_never_pull(image: str) -> str:
    """Warning/ErrImageNeverPull: policy Never and the node does not have the image."""
    return f'Container image "{image}" is not present with pull policy of Never'
