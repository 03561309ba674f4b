"""The gettext catalogs (``<lang>/LC_MESSAGES/taros.po``), read as package data."""
