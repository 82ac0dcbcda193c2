"""The results dataset: schema, summary and storage."""
