"""Defaults of the evaluation protocols (DESIGN.md section 5), in one place:
the functions of :mod:`vitegraph.apps` and the ``evaluation:`` section of run
configs both read them."""

#: node classification (DeepWalk protocol): labelled fractions used for training
TRAIN_RATIOS = (0.1, 0.5, 0.9)
#: node classification: seeded random splits per ratio
REPEATS = 5
#: node classification: inverse regularisation of the logistic regression
C = 1.0
#: link prediction: fraction of the edges held out
TEST_FRACTION = 0.1
