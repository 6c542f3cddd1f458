"""HL7 v2: orders in (MLLP listener, ORM^O01/OML^O21) and results out (ORU^R01)."""
