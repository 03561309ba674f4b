"""The citizen's intake dialogue: category, location, chronology, evidence, summary, ticket."""
