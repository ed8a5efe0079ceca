from . import crm_relationship_tier
from . import account_move
from . import res_company
from . import res_config_settings
from . import res_partner
from . import crm_relationship_kpi
from . import crm_relationship_kpi_value
