from . import crm_relationship_tier_simulation
from . import crm_relationship_program_enroll
from . import res_partner_relationship_end
from . import crm_relationship_kpi_backfill
from . import base_partner_merge_automatic_wizard
