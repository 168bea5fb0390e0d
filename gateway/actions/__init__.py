"""Support actions on many things at once (bulk replay, bulk reprocess), shared by the console and the API."""
