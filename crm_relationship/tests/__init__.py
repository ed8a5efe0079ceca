from . import test_classification
from . import test_feedback
from . import test_feedback_survey
from . import test_program
from . import test_program_tour
from . import test_relationship_end
from . import test_tier
