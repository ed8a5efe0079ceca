from . import test_classification
