"""Pure business rules of crm_relationship: no Odoo import, unit tested on their own."""

from . import care
from . import clv  # numpy and scipy are imported lazily, inside its functions
from . import health
from . import kpi
from . import lifetime_value
from . import number_format
from . import rfm
from . import status
from . import tiering
