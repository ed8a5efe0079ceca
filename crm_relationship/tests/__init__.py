from . import test_classification
from . import test_feedback
from . import test_feedback_survey
from . import test_tier
