"""Image pulls: the happy path's events, and ImagePullBackOff with the kubelet's back-off timing."""

from __future__ import annotations

from datetime import timedelta

from kubelet_fixtures import START, behaviour, container, cstatus, events, get_pod, iso, logs, pod, run

from atlas_sre.sim.kubelet import images as img
from atlas_sre.sim.kubelet.timeline import SYNC_MS

GOOD = "example.io/shop/cart:1.4"
MISSING = "example.io/shop/cart:9.9"
REG = {GOOD: behaviour(listen=[{"port": 8080}], health={"path": "/health"})}
NOT_FOUND = ('rpc error: code = NotFound desc = failed to pull and unpack image "example.io/shop/cart:9.9": '
             'failed to resolve reference "example.io/shop/cart:9.9": example.io/shop/cart:9.9: not found')


def test_reference_normalization_follows_docker_rules() -> None:
    assert img.normalize("nginx") == "docker.io/library/nginx:latest"
    assert img.normalize("bitnami/redis:7.2") == "docker.io/bitnami/redis:7.2"
    assert img.normalize("localhost:5000/app") == "localhost:5000/app:latest"
    assert img.normalize("example.io/a/b:1") == "example.io/a/b:1"
    assert img.repository("nginx:1.27") == "docker.io/library/nginx"
    assert img.pull_policy({"image": "nginx"}) == "Always"
    assert img.pull_policy({"image": "nginx:1.27"}) == "IfNotPresent"


def test_go_duration_matches_time_duration_string() -> None:
    assert [img.go_duration(ms) for ms in (312, 1000, 1500, 10_000, 80_000, 300_000, 3_725_000)] == [
        "312ms", "1s", "1.5s", "10s", "1m20s", "5m0s", "1h2m5s"]


def test_successful_start_emits_pull_create_start_events() -> None:
    state = run([pod("cart", [container("cart", GOOD)])], REG, minutes=10)
    took = img.pull_ms(GOOD)
    ev = events(state, "cart")
    size = img.image_size(GOOD)
    pulled = (f'Successfully pulled image "{GOOD}" in {img.go_duration(took)} '
              f"({img.go_duration(took)} including waiting). Image size: {size} bytes.")
    assert ("Pulling", f'Pulling image "{GOOD}"') in ev
    assert ev[("Pulled", pulled)]["count"] == 1
    assert ev[("Created", "Created container: cart")]["involvedObject"]["fieldPath"] == "spec.containers{cart}"
    assert ("Started", "Started container cart") in ev
    # sandbox at +1s, pull, then the container starts 120ms after the pull
    started = START + timedelta(milliseconds=1000 + took + 120)
    cs = cstatus(state, "cart")
    assert cs["state"] == {"running": {"startedAt": iso(started)}}
    assert cs["image"] == GOOD and cs["imageID"].startswith("example.io/shop/cart@sha256:")
    assert cs["containerID"].startswith("containerd://") and len(cs["containerID"]) == len("containerd://") + 64
    assert cs["ready"] is True and cs["started"] is True
    assert get_pod(state, "cart")["status"]["phase"] == "Running"


def _pull_times(minutes: float) -> tuple[list[int], int]:
    """Failure instants (ms) of a missing image: back-off 10s, 20s, 40s, 80s re-checked every 12.5s sync."""
    d = img.fail_ms(MISSING)
    # attempt 1 at 1000 (sandbox); after failure k the next pull is at the first sync past the back-off:
    # 10s -> 1 sync (12.5s), 20s -> 2 syncs (25s), 40s -> 4 syncs (50s), 80s -> 7 syncs (87.5s)
    a = [1000]
    fails = [a[0] + d]
    for syncs in (1, 2, 4):
        a.append(fails[-1] + syncs * SYNC_MS)
        fails.append(a[-1] + d)
    horizon = int(minutes * 60_000)
    return [f for f in fails if f <= horizon], d


def test_missing_image_right_after_an_attempt_is_err_image_pull() -> None:
    fails, _ = _pull_times(100 / 60)
    assert len(fails) == 4  # pulls at ~1s, ~14s, ~39s, ~89s
    state = run([pod("cart", [container("cart", MISSING)])], REG, minutes=100 / 60)
    cs = cstatus(state, "cart")
    assert cs["state"] == {"waiting": {"reason": "ErrImagePull", "message": NOT_FOUND}}
    assert cs["imageID"] == "" and "containerID" not in cs and cs["restartCount"] == 0
    ev = events(state, "cart")
    assert ev[("Pulling", f'Pulling image "{MISSING}"')]["count"] == 4
    assert ev[("Failed", f'Failed to pull image "{MISSING}": {NOT_FOUND}')]["count"] == 4
    assert ev[("Failed", "Error: ErrImagePull")]["type"] == "Warning"
    assert ev[("Failed", "Error: ErrImagePull")]["count"] == 4
    # back-off syncs: 1 after the 2nd failure (20s), 3 after the 3rd (40s)
    assert ev[("BackOff", f'Back-off pulling image "{MISSING}"')]["count"] == 4
    assert ev[("BackOff", f'Back-off pulling image "{MISSING}"')]["type"] == "Normal"
    assert ev[("Failed", "Error: ImagePullBackOff")]["count"] == 4
    assert get_pod(state, "cart")["status"]["phase"] == "Pending"


def test_missing_image_between_attempts_is_image_pull_back_off() -> None:
    state = run([pod("cart", [container("cart", MISSING)])], REG, minutes=110 / 60)
    cs = cstatus(state, "cart")
    assert cs["state"]["waiting"]["reason"] == "ImagePullBackOff"
    assert cs["state"]["waiting"]["message"] == f'Back-off pulling image "{MISSING}": ErrImagePull: {NOT_FOUND}'
    assert events(state, "cart")[("BackOff", f'Back-off pulling image "{MISSING}"')]["count"] == 5
    assert logs(state, "cart", "cart") is None and logs(state, "cart", "cart", previous=True) is None


def test_long_back_off_is_throttled_like_the_event_correlator() -> None:
    state = run([pod("cart", [container("cart", MISSING)])], REG, minutes=40)
    ev = events(state, "cart")
    backoff = ev[("BackOff", f'Back-off pulling image "{MISSING}"')]
    # every back-off sync is counted even when the spam filter held it back ...
    assert backoff["count"] > 100
    assert backoff["firstTimestamp"] == iso(START + timedelta(milliseconds=1000 + 2 * img.fail_ms(MISSING)
                                                                       + 2 * SYNC_MS))
    # ... but the last one the apiserver saw is at most one refill (5 minutes) old
    last = backoff["lastTimestamp"]
    assert iso(START + timedelta(minutes=35)) <= last <= iso(START + timedelta(minutes=40))
    # the pull attempts themselves lost the race for tokens after the burst
    assert ev[("Failed", "Error: ErrImagePull")]["count"] == 4
