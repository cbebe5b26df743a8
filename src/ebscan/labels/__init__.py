"""Labels for training and evaluation: the labels table, the EB catalogs and the
known variables of GCVS they are built from."""
