"""Platform adapters: a platform update in as an ``Inbound``, an ``Outbound`` out as
platform calls. No dialogue logic, no SQL."""
