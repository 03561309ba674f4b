"""The WhatsApp channel on Meta's Cloud API (the official route), through pywa."""
