"""The conversation engine and its dialogues; knows nothing of any platform."""
