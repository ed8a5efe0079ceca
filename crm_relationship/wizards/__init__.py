from . import crm_relationship_tier_simulation
from . import crm_relationship_kpi_backfill
