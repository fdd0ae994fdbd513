"""pytest plugin: under autoseed, each test's draws depend only on ``AUTOSEED`` and its id.

Registered through the ``pytest11`` entry point; it does nothing unless autoseed is active in
the pytest process (a seed from the environment or a ``.env``) and ``AUTOSEED_PYTEST`` is not
off. Before each test's function-scoped fixtures and again right before its body, every
library autoseed seeds (built-in and third-party seeders) is reseeded with a seed derived from
the effective seed and the test's node id, with sha256 (never ``hash()``, which differs per
process): the same alone, in any order, on any pytest-xdist worker, and distinct between tests.
The reseed right before the body leaves alone each library that a fixture seeded itself
(``np.random.seed(0)``): the test's own seed wins.

With pytest-randomly installed too, both reseed at set-up and call; autoseed's reseeding comes
later in each (an autouse fixture, and a wrapper right around the test function), so
``AUTOSEED`` decides the draws while pytest-randomly still shuffles the order. Without
autoseed active, pytest-randomly seeds torch and autoseed's third-party seeders through its
``pytest_randomly.random_seeder`` entry point, :func:`reseed_from_pytest_randomly`.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from autoseed.seeding.libraries import active_plan, reseed_everything, seed_imported
from autoseed.seeding.streams import derive
from autoseed.settings.plan import MAX_SEED, PYTEST_VARIABLE, SEED_VARIABLE, SeedPlan

_session_plan: SeedPlan | None = None


def derived_seed(seed: int, node_id: str, phase: str) -> int:
    """A seed for one phase of one test, the same in every process and on every machine."""
    return derive(seed, node_id, phase)


def _plugin_plan() -> SeedPlan | None:
    """The plan the per-test seeds derive from, or ``None`` when the plugin should stay out."""
    plan = active_plan()
    if plan is None or plan.effective_seed is None or not plan.per_test:
        return None
    return plan


def pytest_configure(config: pytest.Config) -> None:
    global _session_plan
    _session_plan = _plugin_plan()


def pytest_report_header(config: pytest.Config) -> str | None:
    if _session_plan is None:
        return None
    source = _session_plan.source_of(SEED_VARIABLE)
    return (
        f"autoseed: {SEED_VARIABLE}={_session_plan.effective_seed} (from {source}); each test "
        f"is reseeded from it and its node id ({PYTEST_VARIABLE}=0 turns this off)"
    )


def _reseed_for(item: pytest.Item, phase: str) -> None:
    if _session_plan is not None and _session_plan.effective_seed is not None:
        seed = derived_seed(_session_plan.effective_seed, item.nodeid, phase)
        # Right before the body, a seed that a fixture set is the test's own: it wins.
        reseed_everything(_session_plan.with_seed(seed), keep_code_seeds=phase == "call")


@pytest.fixture(autouse=True)
def autoseed_per_test_seed(request: pytest.FixtureRequest) -> None:
    """Reseed before the test's function-scoped fixtures (autouse ones are set up first), and
    so after pytest-randomly's set-up reseeding."""
    _reseed_for(request.node, "setup")


# New-style wrappers need pluggy 1.2; the plugin must load in any pytest a user has.
try:
    _around_the_test_body = pytest.hookimpl(wrapper=True)
except TypeError:  # pragma: no cover - pluggy < 1.2
    _around_the_test_body = pytest.hookimpl(hookwrapper=True)


@_around_the_test_body
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Reseed right before the test function: after every pytest_runtest_call hook, so after
    pytest-randomly's reseeding of the call phase too."""
    _reseed_for(pyfuncitem, "call")
    return (yield)


def reseed_from_pytest_randomly(seed: int) -> None:
    """pytest-randomly's ``random_seeder`` entry point: torch and third-party seeders follow its
    per-test seed as ``random`` and numpy do (it seeds those itself)."""
    if _session_plan is not None:
        return  # autoseed's own hooks reseed everything after pytest-randomly
    seed_imported(SeedPlan(abs(seed) % (MAX_SEED + 1), cudnn="keep"), skip=("random", "numpy"))
