"""PushTask manifests and pushctl.yaml: models, the safe loader and semantic validation."""
