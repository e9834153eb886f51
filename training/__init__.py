"""Training the digit model (Keras). Imports hwr_qt for preprocessing; never the reverse."""
