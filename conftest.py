"""Run the addon's Odoo tests under pytest-odoo as Odoo's own runner does.

Odoo's runner sets ``odoo.modules.module.current_test`` while a test class
runs (to the test itself during each test); mail sending, the test cursors of
HttpCase and other guards read it. pytest-odoo 2.3.0 sets it only on Odoo 19+,
so without this the tests would, for one, send mail through a real SMTP
connection. This file sits outside the addon: pytest imports the conftest files
of its arguments before pytest-odoo makes addon modules import as
``odoo.addons.<addon>``. The Odoo-free tests in ``tests/`` are left alone.
"""

from pathlib import Path

import pytest

ADDON_DIR = Path(__file__).resolve().parent / "crm_relationship"


def _set_current_test(request, test):
    if not Path(request.node.path).resolve().is_relative_to(ADDON_DIR):
        yield
        return
    from odoo.modules import module

    previous = module.current_test
    module.current_test = test
    yield
    module.current_test = previous


@pytest.fixture(scope="class", autouse=True)
def odoo_current_test_class(request):
    yield from _set_current_test(request, True)


@pytest.fixture(autouse=True)
def odoo_current_test(request):
    yield from _set_current_test(request, request.instance or True)
