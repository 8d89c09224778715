"""The Slack front end of scenario-forge: thin listeners over forge services (`python -m bot`)."""
