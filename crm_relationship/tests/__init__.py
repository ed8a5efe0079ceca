from . import test_classification
from . import test_kpi
