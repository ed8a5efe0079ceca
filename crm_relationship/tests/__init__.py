from . import test_classification
from . import test_care
from . import test_care_rules
