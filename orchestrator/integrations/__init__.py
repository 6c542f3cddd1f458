"""Hospital integration: HL7 v2 orders in over MLLP, the outbox of deliveries (HL7 ORU^R01,
FHIR, webhooks) and the message console."""
