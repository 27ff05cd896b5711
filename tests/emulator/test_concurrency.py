"""Concurrent clients: every write is applied exactly once and the counts add up."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from emulator.server import EmulatorServer

THREADS = 32
POSTS_PER_THREAD = 10


def test_32_threads_posting_statuses_keep_exact_histories(
    emulator: EmulatorServer, token: str
) -> None:
    emulator.state.update_settings(latency_ms=5, jitter_ms=5)
    shared = emulator.state.add_devices(count=1)[0]
    own = emulator.state.add_devices(count=THREADS)
    headers = {"Authorization": f"Bearer {token}"}

    def worker(index: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=emulator.base_url, headers=headers, timeout=10) as http:
            for i in range(POSTS_PER_THREAD):
                tuid = shared if i % 2 else own[index]
                body = {"installation_status": "installed" if i % 4 < 2 else "uninstalled"}
                statuses.append(http.post(f"things/{tuid}/installations", json=body).status_code)
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))

    assert Counter(s for statuses in results for s in statuses) == {200: THREADS * POSTS_PER_THREAD}
    per_device = POSTS_PER_THREAD // 2
    assert len(emulator.state.installation_history(shared)) == 1 + THREADS * per_device
    for tuid in own:
        assert len(emulator.state.installation_history(tuid)) == 1 + per_device
    counts = emulator.state.stats()["installations_by_tuid"]
    assert counts[shared] == THREADS * per_device
    assert sum(counts.values()) == THREADS * POSTS_PER_THREAD
    assert len(emulator.state.call_log) == 1 + THREADS * POSTS_PER_THREAD


def test_racing_group_creates_yield_one_winner(emulator: EmulatorServer, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    def create(_: int) -> int:
        with httpx.Client(base_url=emulator.base_url, headers=headers) as http:
            return http.post("groups", json={"group_id": "prfi00race"}).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = Counter(pool.map(create, range(THREADS)))

    assert statuses == {200: 1, 409: THREADS - 1}
