"""Understanding a citizen's free text: category, place, time, urgency, landmarks, slang."""
