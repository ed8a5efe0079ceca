from . import crm_relationship_tier
from . import crm_relationship_program_stage
from . import crm_relationship_program
from . import crm_relationship_program_member
from . import account_move
from . import res_company
from . import res_config_settings
from . import res_partner
