"""Odoo-free unit tests of crm_relationship's pure business rules.

``crm_relationship/__init__.py`` imports Odoo. To test the plain-Python rules
in ``crm_relationship/tools`` where Odoo is absent, register ``crm_relationship``
as an empty package whose ``__path__`` is the addon folder, without running its
``__init__.py``: ``from crm_relationship.tools import tiering`` then imports
only the ``tools`` subpackage (which must not import Odoo).
"""

import importlib.machinery
import sys
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ADDON = "crm_relationship"
ADDON_DIR = Path(__file__).resolve().parent.parent / ADDON


def _register_stub_package():
    if ADDON in sys.modules:
        return
    spec = importlib.machinery.ModuleSpec(ADDON, None, is_package=True)
    spec.submodule_search_locations = [str(ADDON_DIR)]
    package = types.ModuleType(ADDON)
    package.__spec__ = spec
    package.__path__ = [str(ADDON_DIR)]
    package.__package__ = ADDON
    package.__file__ = None
    sys.modules[ADDON] = package


_register_stub_package()

# The property tests (test_properties_*.py): bounded, so that the whole suite
# runs in seconds; no example database written into the repository.
settings.register_profile(
    "crm_relationship",
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("crm_relationship")


# pytest-odoo, when installed, loads into every pytest run and its autouse
# fixtures open the Odoo database given by --odoo-database ("Missing database
# name" without one). These tests need no Odoo: the same names here, closer to
# the tests, replace the plugin's fixtures with ones that do nothing.
@pytest.fixture(scope="session", autouse=True)
def load_registry():
    yield


@pytest.fixture(autouse=True)
def enable_odoo_test_flag():
    yield
