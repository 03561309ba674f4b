"""The WhatsApp channel: a linked device through neonize, in a supervised worker process."""
