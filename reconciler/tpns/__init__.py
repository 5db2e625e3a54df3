"""The TPNS REST API v3 client: auth, envelopes, errors, endpoints, pacing."""
