"""Background work: the outbox dispatcher, durable timers, SLA reminders, the digest, retention."""
